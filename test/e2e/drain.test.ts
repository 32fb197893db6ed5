import { afterEach, describe, expect, it } from "vitest";
import { type ChildWorkers, startChildWorkers } from "../helpers/child-workers.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";
import { bash, create, say } from "../helpers/turns.js";

// SIGTERM while a long check or command runs (default timeouts 1200 s and 300 s): the worker must
// not wait them out, as a container's stop grace period ends far sooner in a SIGKILL with nothing
// handed over.
let world: World | undefined;
let children: ChildWorkers | undefined;
afterEach(async () => {
  await children?.close();
  await world?.close();
  children = undefined;
  world = undefined;
});

const FAST_STALLS = { JOB_LOCK_MS: "1500", JOB_STALLED_INTERVAL_MS: "500" };

async function sigtermAndTime(c: ChildWorkers): Promise<{ code: number | null; ms: number }> {
  const worker = c.workers[0]!;
  const started = Date.now();
  worker.kill("SIGTERM");
  const code = await worker.exited;
  return { code, ms: Date.now() - started };
}

describe("SIGTERM during a long check or command", () => {
  it("a running check is killed: the work is pushed, the job handed back at once", async () => {
    const routing = { repos: { [`${OWNER}/${REPO}`]: { checkCommand: "sleep 60 && sh check.sh" } } };
    world = await startWorld({ startWorkers: false, env: FAST_STALLS, routing });
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([create("greet.txt", "hello, world\n"), say("## Summary\nDone.")]);
    children = await startChildWorkers(1, w.env);
    const res = await w.labelIssue(issue);
    await w.waitFor(async () => (await w.deps.tasks.get(issue.id))?.step?.startsWith("running `"), "the checks to run");

    const { code, ms } = await sigtermAndTime(children);
    expect(code).toBe(0);
    // DRAIN_GRACE_MS (3 s) and the hand-over, far below the command's 60 s.
    expect(ms).toBeLessThan(8_000);
    expect(await w.remote.show("agent/eng-1", "greet.txt")).toBe("hello, world");
    expect((await w.remote.log("agent/eng-1"))[0]?.subject).toMatch(/^WIP: .*interrupted by a worker shutdown/);
    expect(await (await w.deps.queues.implement.getJob(res.body.jobId as string))?.getState()).toBe("waiting");
    // The killed check is not reported as a failed one.
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "queued", checks: null, step: expect.stringMatching(/^interrupted by a worker shutdown/) });
  });

  it("a running bash command is killed: the job is handed back at once and another worker finishes it", async () => {
    world = await startWorld({ startWorkers: false, env: FAST_STALLS });
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([
      create("greet.txt", "hello, world\n"),
      bash("sleep 60"),
      create("greet.txt", "hello, world\n"),
      say("## Summary\nFinished after the handover."),
    ]);
    children = await startChildWorkers(1, w.env);
    const res = await w.labelIssue(issue);
    await w.waitFor(async () => (await w.deps.tasks.get(issue.id))?.step === "turn 2: bash", "the long command");

    const { code, ms } = await sigtermAndTime(children);
    expect(code).toBe(0);
    // DRAIN_GRACE_MS (3 s) and the hand-over, far below the command's 60 s.
    expect(ms).toBeLessThan(8_000);
    expect(w.anthropic.requests).toHaveLength(2);
    expect(await w.remote.show("agent/eng-1", "greet.txt")).toBe("hello, world");
    expect(await (await w.deps.queues.implement.getJob(res.body.jobId as string))?.getState()).toBe("waiting");

    await children.add();
    expect(await w.waitForJob(res.body.jobId as string, "implement", 30_000)).toBe("completed");
    expect(w.anthropic.requests[2]?.body.messages[0].content[0].text as string).toContain("A previous run on this issue was interrupted");
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open" });
  });

  it("the worker that takes over a handed-back job gets only what is left of its budget", async () => {
    world = await startWorld({ startWorkers: false, env: { ...FAST_STALLS, AGENT_BUDGET_USD: "0.000001" } });
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([bash("sleep 60"), create("greet.txt", "hello, world\n"), say("## Summary\nDone.")]);
    children = await startChildWorkers(1, w.env);
    const res = await w.labelIssue(issue);
    // The first turn alone spends the whole budget; its command is still running at the SIGTERM.
    await w.waitFor(async () => (await w.deps.tasks.get(issue.id))?.step === "turn 1: bash", "the long command");
    expect((await sigtermAndTime(children)).code).toBe(0);

    await children.add();
    expect(await w.waitForJob(res.body.jobId as string, "implement", 30_000)).toBe("failed");
    expect(w.anthropic.requests).toHaveLength(1);
    expect((await w.deps.tasks.get(issue.id))?.error).toMatch(/AGENT_BUDGET_USD.*No pull request was opened/);
  });
});
