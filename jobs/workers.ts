import { type Processor, Worker } from "bullmq";
import type { Deps } from "../src/deps.js";
import { recordJob } from "../src/metrics/cluster-counters.js";
import { createAckProcessor } from "./ack.js";
import { createRedis } from "../src/redis.js";
import { createFeedbackProcessor } from "./feedback.js";
import { createImplementProcessor } from "./implement.js";
import { versionedProcessor } from "./job-schema.js";
import type { WorkerDeps } from "./job-context.js";
import { createLifecycleProcessor } from "./lifecycle.js";
import { QUEUE } from "./queues.js";
import { createReconcileProcessor } from "./reconcile.js";
import { createReviseProcessor } from "./revise.js";

/** Running workers and how to stop them. */
export interface Workers {
  workers: Worker[];
  close(): Promise<void>;
}

/**
 * Starts the BullMQ workers over a blocking connection of their own (BullMQ requires
 * `maxRetriesPerRequest: null` there) and subscribes to cross-process cancels. Agent queues may
 * pick up more jobs than AGENT_CONCURRENCY; the local slots make the excess wait.
 */
export async function startWorkers(deps: Deps): Promise<Workers> {
  if (!deps.clients) {
    throw new Error("workers need GitHub credentials (GITHUB_TOKEN, or GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY of a GitHub App), ANTHROPIC_API_KEY and Linear credentials (LINEAR_API_KEY, or LINEAR_CLIENT_ID and LINEAR_CLIENT_SECRET of the Linear OAuth app) to be set");
  }
  const wdeps = deps as WorkerDeps;
  await deps.cancellation.listen();
  const connection = createRedis(deps.config.redisUrl, "worker");
  connection.on("error", () => undefined);
  const log = deps.logger.child({ component: "worker" });
  const common = { connection, prefix: deps.config.redisPrefix };
  const agents = deps.config.agent.concurrency;
  // Agent runs last minutes; a long lock keeps a busy event loop from looking like a crash, and
  // stall detection hands the job of a worker that died to another one.
  const { lockMs, stalledIntervalMs, reconcileIntervalMs } = deps.config.jobs;
  const agentOpts = { ...common, concurrency: agents, lockDuration: lockMs, stalledInterval: stalledIntervalMs, maxStalledCount: 3 };

  const workers = [
    new Worker(QUEUE.implement, createImplementProcessor(wdeps) as Processor, agentOpts),
    new Worker(QUEUE.revise, createReviseProcessor(wdeps) as Processor, agentOpts),
    new Worker(QUEUE.feedback, versionedProcessor(createFeedbackProcessor(wdeps) as Processor), { ...common, concurrency: 8 }),
    // Lifecycle jobs are short, but a plan's creation must move on soon after its worker died.
    new Worker(QUEUE.lifecycle, versionedProcessor(createLifecycleProcessor(wdeps) as Processor), { ...common, concurrency: 4, lockDuration: Math.min(lockMs, 30_000), stalledInterval: stalledIntervalMs }),
    new Worker(QUEUE.reconcile, versionedProcessor(createReconcileProcessor(wdeps) as Processor), { ...common, concurrency: 1 }),
    // A session's first activity is due within 10 s: its own workers, never behind an agent.
    new Worker(QUEUE.ack, versionedProcessor(createAckProcessor(wdeps) as Processor), { ...common, concurrency: 8 }),
  ];
  if (reconcileIntervalMs > 0) {
    // One scheduler for all processes: upserting the same id keeps a single repeatable job.
    await deps.queues.reconcile.upsertJobScheduler("reconcile", { every: reconcileIntervalMs }, { name: "reconcile", data: { kind: "reconcile" } });
  } else {
    await deps.queues.reconcile.removeJobScheduler("reconcile");
  }
  const finished = (queue: string, outcome: string, job?: { processedOn?: number; finishedOn?: number }) => {
    const seconds = job?.processedOn && job.finishedOn ? (job.finishedOn - job.processedOn) / 1000 : 0;
    void recordJob(deps.workerRedis, deps.config.redisPrefix, queue, outcome, seconds).catch(() => undefined);
  };
  for (const w of workers) {
    w.on("completed", (job) => finished(w.name, "completed", job));
    w.on("failed", (job, err) => {
      finished(w.name, "failed", job);
      log.warn({ queue: w.name, jobId: job?.id, err: err.message }, "job failed");
    });
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
