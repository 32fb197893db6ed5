import { afterEach, describe, expect, it } from "vitest";
import { delegateIssue } from "../fakes/linear/agent-webhooks.js";
import { ofType } from "../helpers/sessions.js";
import { create, say } from "../helpers/turns.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function reconcile(w: World, id: string) {
  await w.deps.queues.reconcile.add("reconcile", { kind: "reconcile" }, { jobId: id });
  expect(await w.waitForJob(id, "reconcile" as never)).toBe("completed");
  return (await w.deps.queues.reconcile.getJob(id))?.returnvalue;
}

describe("reconciler and session tasks", () => {
  it("repairs a delegated task whose job was lost: it runs without the agent label and reports to its session", async () => {
    world = await startWorld({ env: { RECONCILE_INTERVAL_MS: "0", JOB_LOCK_MS: "1000" } });
    const w = world;
    // Delegated (no agent label); its implement job is gone (a crash past the retry limit, say).
    const issue = w.newIssue({ labels: [] });
    const { sessionId } = delegateIssue(w.linear.store, { issueId: issue.id });
    const session = { id: sessionId, organizationId: w.linear.store.organization.id };
    await w.deps.tasks.ensure({ issueId: issue.id, identifier: issue.identifier, title: issue.title, issueUrl: issue.url });
    await w.deps.tasks.update(issue.id, () => ({ session, state: "working", jobId: "implement-lost", startedAt: new Date().toISOString() }));
    await new Promise((r) => setTimeout(r, 2_100));
    w.anthropic.script([create("greet.txt", "hello, world\n"), say("## Summary\ngreet.txt now says hello, world.")]);

    expect((await reconcile(w, "r1")).stuckTasks).toEqual([issue.identifier]);
    await w.waitFor(async () => (await w.deps.queues.implement.getJobCounts("completed")).completed === 1, "the repair job to finish");
    expect(await w.deps.queues.implement.getJobCounts("failed")).toEqual({ failed: 0 });

    // Not stopped as "the label is no longer on the issue": the session, not a label, is its switch.
    const task = await w.deps.tasks.get(issue.id);
    expect(task).toMatchObject({ state: "pr-open", session, error: null });
    const { data: pulls } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "open" });
    expect(pulls).toHaveLength(1);
    // Its work reports to its session, not to a progress comment.
    const stored = w.linear.store.agentSessions.get(sessionId);
    expect(stored?.externalLinks).toContainEqual({ label: "Pull request", url: pulls[0]?.html_url });
    expect(ofType(w, sessionId, "response")).toHaveLength(1);
    expect(ofType(w, sessionId, "thought").length).toBeGreaterThan(0);
    expect(w.linear.store.commentsFor(issue.id).some((c) => c.body.includes("Agent:"))).toBe(false);
    // A later sweep finds nothing left to repair.
    expect((await reconcile(w, "r2")).stuckTasks).toEqual([]);
  });
});
