import { Queue, Worker } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { createRedis } from "../../src/redis.js";
import type { FakeIssue } from "../fakes/linear/index.js";
import { REDIS_URL } from "../helpers/redis.js";
import { bash, create, say } from "../helpers/turns.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

// Jobs that wait for a repository slot: granted first come first served, each told its true
// place in line, woken when the slot frees instead of re-running every few seconds.

let world: World | undefined;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await world?.close();
  world = undefined;
});

/** The issue each agent request is for, in the order the requests came. */
const issueOf = (req: any): string => /<issue id="([^"]+)"/.exec(req.messages[0].content[0].text)?.[1] ?? "?";

/**
 * Completes once a job delayed by `ms` on a queue of its own came due: proof that BullMQ's
 * delayed jobs had that long to come due, so a job that re-checks more often would have re-run.
 */
async function dueAfter(w: World, ms: number): Promise<void> {
  const name = "probe";
  const connection = createRedis(REDIS_URL, "worker");
  const prefix = w.deps.config.redisPrefix;
  const queue = new Queue(name, { connection, prefix });
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const worker = new Worker(name, async () => done(), { connection, prefix });
  closers.push(async () => {
    await worker.close();
    await queue.close();
    connection.disconnect();
  });
  await queue.add("tick", {}, { delay: ms });
  await finished;
}

/** A world whose repository takes one agent at a time, counting how often each implement job runs. */
async function oneSlotWorld(): Promise<{ w: World; runs: Map<string, number> }> {
  world = await startWorld({
    env: { AGENT_CONCURRENCY: "4" },
    routing: { repos: { [`${OWNER}/${REPO}`]: { checkCommand: "sh check.sh", maxAgents: 1 } } },
  });
  const worker = world.workers?.workers.find((x) => x.name === "implement");
  if (!worker) throw new Error("the world has no implement worker");
  const runs = new Map<string, number>();
  worker.on("active", (job) => runs.set(String(job.id), (runs.get(String(job.id)) ?? 0) + 1));
  return { w: world, runs };
}

/** Every place in line the Linear progress comments showed, in the order they were written. */
function notedPositions(w: World): string[] {
  return w.linear.requests
    .filter((r) => r.operationName === "updateComment" || r.operationName === "createComment")
    .flatMap((r) => [.../position \d+ in line/.exec(String((r.variables.input as { body?: string }).body ?? "")) ?? []]);
}

describe("waiting for a repository slot", () => {
  it("three jobs for a repository with one slot run in arrival order; each waiting one is told its true place, and looks again only when the line moves", async () => {
    const { w, runs } = await oneSlotWorld();

    // The first agent holds the slot with a long command until its label is removed; the others
    // write a file and finish.
    w.anthropic.script([bash("sleep 60"), create("greet.txt", "hello, world\n"), say("## Summary\nDone."), create("greet.txt", "hello, all\n"), say("## Summary\nDone.")]);
    const first = w.newIssue({ title: "Hold the slot" });
    const second = w.newIssue({ title: "Greet the world" });
    const third = w.newIssue({ title: "Greet everyone" });
    const a = (await w.labelIssue(first)).body.jobId as string;
    await w.waitFor(() => w.anthropic.requests.length >= 1, "the first agent to start");

    const position = (issue: FakeIssue, n: number) =>
      w.waitFor(async () => (await w.deps.tasks.get(issue.id))?.step?.includes(`position ${n} in line`), `${issue.identifier} to wait at position ${n}`);
    const b = (await w.labelIssue(second)).body.jobId as string;
    await position(second, 1);
    const c = (await w.labelIssue(third)).body.jobId as string;
    await position(third, 2);
    for (const id of [b, c]) await w.waitFor(async () => (await w.deps.queues.implement.getJob(id))?.isDelayed(), `job ${id} to sleep`);

    // Longer than a few of the old 2 s re-checks: a sleeping job was not run again meanwhile.
    await dueAfter(w, 5_000);
    expect([runs.get(b), runs.get(c)]).toEqual([1, 1]);

    // Freeing the slot wakes the next in line at once (not after its one-minute safety net).
    await w.unlabelIssue(first);
    expect(await w.waitForJob(a)).toBe("failed");
    expect(await w.waitForJob(b, "implement", 30_000)).toBe("completed");
    expect(await w.waitForJob(c, "implement", 30_000)).toBe("completed");

    expect(w.anthropic.requests.map((r) => issueOf(r.body))).toEqual([first, second, second, third, third].map((i) => i.identifier));
    // A waiting job looks when it arrives, when the line moves up (to show its new place) and
    // when the slot becomes its own: the second twice, the third three times.
    expect([runs.get(b), runs.get(c)]).toEqual([2, 3]);
    expect(notedPositions(w)).toEqual(["position 1 in line", "position 2 in line", "position 1 in line"]);
  });

  it("a job removed from the queue while in line does not hold it: the next one starts when the slot frees", async () => {
    const { w, runs } = await oneSlotWorld();
    w.anthropic.script([bash("sleep 60"), create("greet.txt", "hello, world\n"), say("## Summary\nDone.")]);
    const [first, second, third] = [w.newIssue({ title: "Hold the slot" }), w.newIssue({ title: "Leave the line" }), w.newIssue({ title: "Greet" })];
    const a = (await w.labelIssue(first)).body.jobId as string;
    await w.waitFor(() => w.anthropic.requests.length >= 1, "the first agent to start");
    const b = (await w.labelIssue(second)).body.jobId as string;
    await w.waitFor(async () => (await w.deps.tasks.get(second.id))?.step?.includes("position 1 in line"), "the second to wait");
    const c = (await w.labelIssue(third)).body.jobId as string;
    await w.waitFor(async () => (await w.deps.tasks.get(third.id))?.step?.includes("position 2 in line"), "the third to wait");
    await w.waitFor(async () => (await w.deps.queues.implement.getJob(b))?.isDelayed(), "the second to sleep");

    // The second's label goes: its sleeping job is removed from the queue, its entry stays behind.
    const cancel = await w.unlabelIssue(second);
    expect(await w.waitForJob(cancel.body.jobId as string, "lifecycle")).toBe("completed");
    expect(await w.deps.queues.implement.getJob(b)).toBeUndefined();
    expect((await w.deps.limits.repoLine(`${OWNER}/${REPO}`)).map((e) => e.jobId)).toEqual([b, c]);

    await w.unlabelIssue(first);
    expect(await w.waitForJob(a)).toBe("failed");
    expect(await w.waitForJob(c, "implement", 30_000)).toBe("completed");
    expect(w.anthropic.requests.map((r) => issueOf(r.body))).toEqual([first, third, third].map((i) => i.identifier));
    // Woken by the freed slot, past the departed entry: it looked twice, not once a minute.
    expect(runs.get(c)).toBe(2);
    expect(await w.deps.limits.repoLine(`${OWNER}/${REPO}`)).toEqual([]);
  });
});
