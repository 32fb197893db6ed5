import type { FastifyRequest } from "fastify";
import { Counter, Gauge, Registry } from "prom-client";
import type { Deps } from "../deps.js";
import { readCounters } from "./cluster-counters.js";

/** What a webhook request came to; set by the route, counted when the response is sent. */
export type WebhookOutcome = "accepted" | "duplicate" | "ignored" | "unauthorized" | "invalid" | "unavailable" | "error";

const outcomes = new WeakMap<FastifyRequest, WebhookOutcome>();

/** Records what a webhook request came to, for the webhooks_total counter. */
export function noteWebhookOutcome(req: FastifyRequest, outcome: WebhookOutcome): void {
  outcomes.set(req, outcome);
}

/** The outcome noted for a request, or one derived from its status code. */
export function outcomeOf(req: FastifyRequest, status: number): WebhookOutcome {
  const noted = outcomes.get(req);
  if (noted) return noted;
  if (status === 401) return "unauthorized";
  if (status === 503) return "unavailable";
  if (status >= 500) return "error";
  if (status >= 400) return "invalid";
  return "ignored";
}

/** The Prometheus registry: process-local HTTP and Redis figures, workforce-wide agent figures. */
export function createMetrics(deps: Pick<Deps, "redis" | "queues" | "config">) {
  const registry = new Registry();
  const webhooks = new Counter({
    name: "agent_workforce_webhooks_total",
    help: "Webhook deliveries by source and outcome",
    labelNames: ["source", "outcome"],
    registers: [registry],
  });
  const redisErrors = new Counter({ name: "agent_workforce_redis_errors_total", help: "Redis connection errors seen by this process", registers: [registry] });
  deps.redis.on("error", () => redisErrors.inc());

  new Gauge({
    name: "agent_workforce_queue_jobs",
    help: "Jobs per queue and state (queue depth)",
    labelNames: ["queue", "state"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [name, queue] of Object.entries(deps.queues)) {
        if (typeof queue !== "object" || !("getJobCounts" in queue)) continue;
        const counts = await queue.getJobCounts("waiting", "active", "delayed", "completed", "failed", "prioritized");
        for (const [state, n] of Object.entries(counts)) this.set({ queue: name, state }, Number(n));
      }
    },
  });
  // Counters kept in Redis by the workers, exposed here as gauges of monotonically growing totals.
  const totals = (name: string, help: string, read: (c: Record<string, number>) => Array<[Record<string, string>, number]>, labelNames: string[] = []) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const c = await readCounters(deps.redis, deps.config.redisPrefix);
        this.reset();
        for (const [labels, v] of read(c)) this.set(labels, v);
      },
    });
  totals("agent_workforce_agent_turns_total", "Model turns of all agents", (c) => [[{}, c.turns ?? 0]]);
  totals(
    "agent_workforce_agent_tokens_total",
    "Tokens of all agents by kind",
    (c) => ["input", "output", "cache_write", "cache_read"].map((k) => [{ kind: k }, c[`tokens_${k}`] ?? 0]),
    ["kind"],
  );
  totals("agent_workforce_agent_cost_usd_total", "Spend of all agents in USD", (c) => [[{}, c.cost_usd ?? 0]]);
  totals(
    "agent_workforce_jobs_total",
    "Finished jobs by queue and outcome",
    (c) => jobSeries(c, "jobs:"),
    ["queue", "outcome"],
  );
  totals(
    "agent_workforce_job_duration_seconds_total",
    "Summed run time of finished jobs by queue and outcome (divide by jobs_total for the mean)",
    (c) => jobSeries(c, "job_seconds:"),
    ["queue", "outcome"],
  );
  return { registry, webhooks };
}

function jobSeries(c: Record<string, number>, prefix: string): Array<[Record<string, string>, number]> {
  return Object.entries(c)
    .filter(([k]) => k.startsWith(prefix))
    .map(([k, v]) => {
      const [, queue = "", outcome = ""] = k.split(":");
      return [{ queue, outcome }, v];
    });
}

export type Metrics = ReturnType<typeof createMetrics>;
