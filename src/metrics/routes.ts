import type { FastifyInstance } from "fastify";
import type { Deps } from "../deps.js";
import { createMetrics, outcomeOf } from "./registry.js";

/** GET /metrics in Prometheus format, and the webhook counter fed from every webhook response. */
export async function metricsRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const metrics = createMetrics(opts.deps);
  // Registered on the root instance (the plugin is wrapped with skip-override semantics below) so
  // it sees the webhook routes' responses.
  app.addHook("onResponse", async (req, reply) => {
    const url = req.routeOptions.url ?? req.url;
    const source = url === "/webhooks/github" ? "github" : url === "/webhooks/linear" ? "linear" : null;
    if (source) metrics.webhooks.inc({ source, outcome: outcomeOf(req, reply.statusCode) });
  });
  app.get("/metrics", async (_req, reply) => {
    reply.header("content-type", metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
// Fastify encapsulates hooks per plugin; this symbol makes the hook apply to the whole app.
(metricsRoutes as unknown as Record<symbol, boolean>)[Symbol.for("skip-override")] = true;
