import type { Job } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { recordFailure, unrecoverable } from "../../jobs/failures.js";
import { taskContext, type WorkerDeps } from "../../jobs/job-context.js";
import { prCommentCreated } from "../fixtures/github-events.js";
import { create, say } from "../helpers/turns.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";
import { implemented, REVIEWER } from "../helpers/review.js";

// How a task's review loop ends: a revision that fails early, a stop while the task is failed,
// and a failure the state machine refuses to record.


const REPORT = "## Summary\nGreeting updated.";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});


const revisions = (w: World) => w.deps.queues.revise.getJobCounts("completed", "failed", "active", "waiting", "delayed");

const comment = (w: World, pr: number, id: number, body: string) =>
  w.sendGitHub("issue_comment", prCommentCreated({ owner: OWNER, repo: REPO, pr, id, body, by: REVIEWER }));

/** The `agent-workforce` commit status GitHub shows on the PR's head, read through the API. */
async function agentStatus(w: World, pr: number) {
  const { data: pull } = await w.octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: pr });
  const { data } = await w.octokit.rest.repos.getCombinedStatusForRef({ owner: OWNER, repo: REPO, ref: pull.head.sha });
  return data.statuses.find((s) => s.context === "agent-workforce");
}

describe("the end of a review loop", () => {
  it("a revision that fails before it starts revising is recorded: task failed, Linear and the PR status say why", async () => {
    world = await startWorld({ env: { REVISION_DEBOUNCE_MS: "50" } });
    const w = world;
    const { issue, pr } = await implemented(w, REPORT);
    const requests = w.anthropic.requests.length;
    // The PR is closed on GitHub and that webhook is lost: the revision finds it closed at once.
    await w.octokit.rest.pulls.update({ owner: OWNER, repo: REPO, pull_number: pr, state: "closed" });
    await comment(w, pr, 7301, "@agent rename the greeting file");
    await w.waitFor(async () => (await revisions(w)).failed === 1, "the failed revision");

    const reason = `pull request #${pr} is closed; nothing to revise`;
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "failed", error: reason, prNumber: pr });
    const [progress] = w.linear.store.commentsFor(issue.id);
    expect(progress?.body).toContain("Agent: Failed");
    expect(progress?.body).toContain(reason);
    expect(await agentStatus(w, pr)).toMatchObject({ state: "error", description: `Agent revision failed: ${reason}` });
    expect(w.anthropic.requests).toHaveLength(requests);
    expect(w.logs.some((l) => l.includes("was not recorded on the task"))).toBe(false);
  });

  it("a revision that fails while revising leaves no pending commit status behind", async () => {
    world = await startWorld({ env: { REVISION_DEBOUNCE_MS: "50" } });
    const w = world;
    const { issue, pr } = await implemented(w, REPORT);
    // The model refuses the revision's request outright: it fails for good after the pending status.
    // (Not "prompt is too long": that one the agent answers by compacting its context.)
    w.anthropic.script([{ error: { status: 400, type: "invalid_request_error", message: "messages.1.content: tool_result block(s) provided when previous message does not contain any tool_use blocks" } }]);
    await comment(w, pr, 7311, "@agent rename the greeting file");
    await w.waitFor(async () => (await revisions(w)).failed === 1, "the failed revision");

    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "failed", prNumber: pr });
    const status = await agentStatus(w, pr);
    expect(status?.state).toBe("error");
    expect(status?.description).toMatch(/^Agent revision failed: Anthropic refused the request/);
  });

  it("removing the label from a failed task whose PR is open stops it; feedback is ignored until the label is back", async () => {
    world = await startWorld({ env: { REVISION_DEBOUNCE_MS: "50" } });
    const w = world;
    const { issue, pr } = await implemented(w, REPORT);
    w.anthropic.script([{ error: { status: 400, type: "invalid_request_error", message: "prompt is too long" } }]);
    await comment(w, pr, 7401, "@agent rename the greeting file");
    await w.waitFor(async () => (await revisions(w)).failed === 1, "the failed revision");
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "failed", prNumber: pr });

    const cancel = await w.unlabelIssue(issue);
    expect(await w.waitForJob(cancel.body.jobId as string, "lifecycle")).toBe("completed");
    const job = await w.deps.queues.lifecycle.getJob(cancel.body.jobId as string);
    expect(job?.returnvalue).toEqual({ outcome: "agent stopped between revisions" });
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({
      state: "stopped",
      error: "Stopped because the agent label was removed. The pull request stays open; label the issue again for the agent to take review feedback.",
    });
    expect(w.linear.store.commentsFor(issue.id)[0]?.body).toContain("Agent: Stopped");

    const res = await comment(w, pr, 7402, "@agent one more thing");
    expect(await w.waitForJob(res.body.jobId, "feedback")).toBe("completed");
    const feedback = await w.deps.queues.feedback.getJob(res.body.jobId);
    expect(feedback?.returnvalue).toMatchObject({ action: "ignored", reason: expect.stringMatching(/stopped; label the Linear issue again/) });
    expect(await revisions(w)).toMatchObject({ completed: 0, failed: 1, waiting: 0, delayed: 0, active: 0 });

    // With the label back, the agent takes a new attempt on the same branch and PR.
    w.anthropic.script([create("hello.txt", "hi\n"), say("## Summary\nAdded hello.txt.")]);
    const again = await w.labelIssue(issue);
    expect(await w.waitForJob(again.body.jobId as string)).toBe("completed");
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", prNumber: pr, attempts: 2 });
  });

  it("a failure the state machine refuses to record is logged as an error, and the task keeps its state", async () => {
    world = await startWorld({ startWorkers: false });
    const w = world;
    const issue = w.newIssue();
    const { deps } = w;
    await deps.tasks.ensure({ issueId: issue.id, identifier: issue.identifier, title: issue.title, issueUrl: null });
    for (const state of ["working", "pr-open", "merged"] as const) await deps.tasks.update(issue.id, () => ({ state }));
    // A real job, never run: no worker is started.
    const job = (await deps.queues.revise.add("revise", { kind: "revise", issueId: issue.id, repo: { owner: OWNER, name: REPO }, prNumber: 1 })) as Job;
    const merged = await deps.tasks.get(issue.id);
    const c = taskContext(deps as WorkerDeps, job, issue.id, merged!);
    try {
      const thrown = await recordFailure(c, job, unrecoverable("pull request #1 is merged; nothing to revise"));
      expect((thrown as Error).message).toBe("pull request #1 is merged; nothing to revise");
    } finally {
      c.done();
    }
    expect(await deps.tasks.get(issue.id)).toMatchObject({ state: "merged", error: null });
    const line = w.logs.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.msg.includes("was not recorded on the task"));
    expect(line).toMatchObject({ level: 50 });
    expect(line?.msg).toContain("merged → failed is not allowed");
    expect(line?.msg).toContain("pull request #1 is merged; nothing to revise");
  });
});
