import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { githubWebhookRoutes } from "../webhooks/github.js";
import { linearWebhookRoutes } from "../webhooks/linear.js";
import { dashboardRoutes } from "./dashboard/routes.js";
import type { Deps } from "./deps.js";
import { linearInstallRoutes } from "./linear/oauth/install-routes.js";
import { metricsRoutes } from "./metrics/routes.js";
import { pingWithin } from "./redis.js";

const ROUTINE_ROUTES = new Set(["/healthz", "/readyz", "/metrics"]);

/** Builds the Fastify app over the given deps. Never listens: main.ts and tests decide that. */
export async function buildApp(deps: Deps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: "http" }) as FastifyBaseLogger,
    bodyLimit: deps.config.webhookBodyLimitBytes,
    // A hung client must not hold a connection forever.
    requestTimeout: 15_000,
    return503OnClosing: true,
    // One line per request (below) instead of Fastify's "incoming request" + "request completed".
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.addHook("onResponse", (req, reply, done) => {
    // Probes and scrapes arrive every few seconds; at info they would drown the webhook lines.
    const routine = ROUTINE_ROUTES.has(req.routeOptions.url ?? "") && reply.statusCode < 400;
    const level = routine ? "debug" : "info";
    if (deps.logger.isLevelEnabled(level)) {
      req.log[level]({ req, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) }, "request completed");
    }
    done();
  });

  app.setErrorHandler((err: { statusCode?: number; message: string; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, "request failed");
    const message =
      err.code === "FST_ERR_CTP_BODY_TOO_LARGE"
        ? `body larger than ${deps.config.webhookBodyLimitBytes} bytes`
        : status >= 500
          ? "internal error"
          : err.message;
    return reply.code(status).send({ error: message });
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    try {
      await pingWithin(deps.redis, 500);
      return { status: "ready" };
    } catch (err) {
      return reply.code(503).send({ status: "unavailable", error: `Redis: ${(err as Error).message}` });
    }
  });

  await app.register(githubWebhookRoutes, { deps });
  await app.register(linearWebhookRoutes, { deps });
  await app.register(metricsRoutes, { deps });
  await app.register(dashboardRoutes, { deps });
  if (deps.linearApp) await app.register(linearInstallRoutes, { linearApp: deps.linearApp });
  return app;
}
