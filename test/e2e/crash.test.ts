import { afterEach, describe, expect, it } from "vitest";
import type { ScriptedTurn } from "../fakes/anthropic/index.js";
import { type ChildWorkers, startChildWorkers } from "../helpers/child-workers.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";
import { bash, create, say } from "../helpers/turns.js";

let world: World | undefined;
let children: ChildWorkers | undefined;
afterEach(async () => {
  await children?.close();
  await world?.close();
  children = undefined;
  world = undefined;
});

const done = (text = "## Summary\nDone."): ScriptedTurn => say(text);
// Short job locks so stall detection hands a dead worker's job over within seconds.
const FAST_STALLS = { JOB_LOCK_MS: "1500", JOB_STALLED_INTERVAL_MS: "500" };

async function onePrOneCommentOneAttachment(w: World, issueId: string) {
  const { data: pulls } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all" });
  expect(pulls).toHaveLength(1);
  expect(w.linear.store.commentsFor(issueId)).toHaveLength(1);
  expect(w.linear.store.attachmentsFor(issueId)).toHaveLength(1);
  return pulls[0]!;
}

describe("crash and restart", () => {
  for (const step of ["agent turn", "checks"] as const) {
    it(`a worker killed with SIGKILL during the ${step} → another worker finishes: one PR, one comment, one attachment`, async () => {
      const routing = { repos: { [`${OWNER}/${REPO}`]: { checkCommand: step === "checks" ? "sleep 2 && sh check.sh" : "sh check.sh" } } };
      world = await startWorld({ startWorkers: false, env: FAST_STALLS, routing });
      const w = world;
      const issue = w.newIssue();
      w.anthropic.script(
        step === "agent turn"
          ? [create("greet.txt", "hello, world\n"), bash("sleep 5"), create("greet.txt", "hello, world\n"), done()]
          : [create("greet.txt", "hello, world\n"), done(), create("greet.txt", "hello, world\n"), done()],
      );
      children = await startChildWorkers(1, w.env);
      const res = await w.labelIssue(issue);
      const jobId = res.body.jobId as string;
      await w.waitFor(
        async () => (step === "agent turn" ? w.anthropic.requests.length >= 2 : (await w.deps.tasks.get(issue.id))?.step?.startsWith("running `")),
        `the ${step} to be under way`,
      );
      children.workers[0]!.kill("SIGKILL");
      expect(await children.workers[0]!.exited).toBeNull();
      await children.add();
      expect(await w.waitForJob(jobId, "implement", 30_000)).toBe("completed");
      const pr = await onePrOneCommentOneAttachment(w, issue.id);
      expect(pr.head.ref).toBe("agent/eng-1");
      expect(await w.remote.show("agent/eng-1", "greet.txt")).toBe("hello, world");
      expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", attempts: 1 });
    });
  }

  it("SIGTERM: the worker finishes its turn, pushes the work, hands the job back; another resumes it", async () => {
    world = await startWorld({ startWorkers: false, env: FAST_STALLS });
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([
      create("greet.txt", "hello, world\n"),
      bash("sleep 1.5 && echo step-one > notes.txt"),
      create("greet.txt", "hello, world\n"),
      done("## Summary\nFinished after the handover."),
    ]);
    children = await startChildWorkers(1, w.env);
    const res = await w.labelIssue(issue);
    await w.waitFor(async () => w.anthropic.requests.length >= 2, "the slow turn");
    const first = children.workers[0]!;
    first.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    // The interrupted run pushed its work and left a note; the job waits for another worker.
    expect(await w.remote.show("agent/eng-1", "notes.txt")).toBe("step-one");
    expect((await w.remote.log("agent/eng-1"))[0]?.subject).toMatch(/^WIP: .*interrupted by a worker shutdown/);
    expect(await (await w.deps.queues.implement.getJob(res.body.jobId as string))?.getState()).toBe("waiting");
    await children.add();
    expect(await w.waitForJob(res.body.jobId as string, "implement", 30_000)).toBe("completed");
    const resumed = w.anthropic.requests[2]?.body.messages[0].content[0].text as string;
    expect(resumed).toContain("A previous run on this issue was interrupted");
    await onePrOneCommentOneAttachment(w, issue.id);
    expect(await w.remote.show("agent/eng-1", "notes.txt")).toBe("step-one");
  });
});
