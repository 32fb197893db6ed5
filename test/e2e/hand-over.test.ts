import { type Job, WaitingError, Worker } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { handOver } from "../../jobs/waiting.js";
import { taskContext, type WorkerDeps } from "../../jobs/job-context.js";
import { QUEUE } from "../../jobs/queues.js";
import { createRedis } from "../../src/redis.js";
import { REDIS_URL } from "../helpers/redis.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

let world: World | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  await world?.close();
  world = undefined;
});

describe("handing a job back after a shutdown", () => {
  it("a hand-over the state machine refuses to record is logged as an error; the job still goes back to wait", async () => {
    world = await startWorld({ startWorkers: false });
    const w = world;
    const { deps } = w;
    const issue = w.newIssue();
    await deps.tasks.ensure({ issueId: issue.id, identifier: issue.identifier, title: issue.title, issueUrl: null });
    // The PR was merged while the job drained: the task is final, so "queued" is refused.
    for (const state of ["working", "pr-open", "merged"] as const) await deps.tasks.update(issue.id, () => ({ state }));
    await deps.queues.revise.add("revise", { kind: "revise", issueId: issue.id, repo: { owner: OWNER, name: REPO }, prNumber: 1 });
    // Takes the job by hand, as a worker would, to hold it active with a lock token.
    const connection = createRedis(REDIS_URL, "worker");
    const worker = new Worker(QUEUE.revise, null, { connection, prefix: deps.config.redisPrefix });
    cleanups.push(async () => {
      await worker.close();
      connection.disconnect();
    });
    const token = "hand-over-test";
    const job = (await worker.getNextJob(token)) as Job;
    expect(await job.getState()).toBe("active");
    const c = taskContext(deps as WorkerDeps, job, issue.id, (await deps.tasks.get(issue.id))!);
    try {
      await expect(handOver(c, job, token)).rejects.toBeInstanceOf(WaitingError);
    } finally {
      c.done();
    }

    expect(await job.getState()).toBe("waiting");
    expect(await deps.tasks.get(issue.id)).toMatchObject({ state: "merged" });
    const line = w.logs.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.msg.startsWith("the hand-over was not recorded"));
    expect(line).toMatchObject({ level: 50, msg: `the hand-over was not recorded on the task: task ${issue.identifier}: merged → queued is not allowed` });
  });
});
