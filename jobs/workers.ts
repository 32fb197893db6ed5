import { type Processor, Worker } from "bullmq";
import type { Deps } from "../src/deps.js";
import { createRedis } from "../src/redis.js";
import { createImplementProcessor, type WorkerDeps } from "./implement.js";
import { QUEUE } from "./queues.js";

/** Running workers and how to stop them. */
export interface Workers {
  workers: Worker[];
  close(): Promise<void>;
}

/**
 * Starts the BullMQ workers over a blocking connection of their own (BullMQ requires
 * `maxRetriesPerRequest: null` there). Agents are slow, so a worker runs several at once.
 */
export function startWorkers(deps: Deps): Workers {
  if (!deps.clients) {
    throw new Error("workers need GITHUB_TOKEN, LINEAR_API_KEY and ANTHROPIC_API_KEY to be set");
  }
  const wdeps = deps as WorkerDeps;
  const connection = createRedis(deps.config.redisUrl, "worker");
  connection.on("error", () => undefined);
  const log = deps.logger.child({ component: "worker" });
  const common = { connection, prefix: deps.config.redisPrefix };

  const implement = new Worker(QUEUE.implement, createImplementProcessor(wdeps) as Processor, {
    ...common,
    concurrency: deps.config.agent.concurrency,
    // Agent runs last minutes; a long lock keeps a busy event loop from looking like a crash.
    lockDuration: 120_000,
  });
  const workers = [implement];
  for (const w of workers) {
    w.on("failed", (job, err) => log.warn({ queue: w.name, jobId: job?.id, err: err.message }, "job failed"));
    w.on("completed", (job) => log.info({ queue: w.name, jobId: job.id }, "job completed"));
    w.on("error", (err) => log.error({ queue: w.name, err: err.message }, "worker error"));
  }
  return {
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      connection.disconnect();
    },
  };
}
