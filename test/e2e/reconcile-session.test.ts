import { afterEach, describe, expect, it } from "vitest";
import { delegateIssue } from "../fakes/linear/agent-webhooks.js";
import { delegate, ofType, prompt } from "../helpers/sessions.js";
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

  it("asks again a repository question that never reached the session (every attempt of the job asking it failed to post it)", async () => {
    world = await startWorld({ env: { RECONCILE_INTERVAL_MS: "0", JOB_LOCK_MS: "1000" }, defaultRepo: null, routing: { repos: { [`${OWNER}/${REPO}`]: {}, [`${OWNER}/gadgets`]: {} } } });
    const w = world;
    let refusing = false;
    const elicitations = () => w.linear.requests.filter((r) => r.operationName === "createAgentActivity" && JSON.stringify(r.variables).includes('"elicitation"'));
    // Linear answers 500 to every elicitation while `refusing`; other activities pass.
    w.linear.failNext(100, "internal", { operation: "createAgentActivity", when: (v) => refusing && JSON.stringify(v).includes('"elicitation"') });
    const issue = w.newIssue({ labels: [] });
    const { sessionId, res } = await delegate(w, issue);
    await w.waitFor(() => ofType(w, sessionId, "elicitation").length === 1, "the repository question");
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");

    // An answer that matches nothing is asked again, but Linear refuses that elicitation on every attempt.
    refusing = true;
    const wrong = await prompt(w, sessionId, "the blue one");
    expect(await w.waitForJob(wrong.res.body.jobId as string, "feedback", 40_000)).toBe("failed");
    expect(elicitations().length).toBeGreaterThanOrEqual(4);
    const stuck = await w.deps.tasks.get(issue.id);
    expect(stuck).toMatchObject({ state: "needs-input", repoQuestion: { key: `answer:${wrong.payload.agentActivity?.id}`, unmatched: { answer: "the blue one" } } });
    expect(ofType(w, sessionId, "elicitation")).toHaveLength(1);

    refusing = false;
    await new Promise((r) => setTimeout(r, 2_100));
    expect(await reconcile(w, "q1")).toMatchObject({ unaskedQuestions: [issue.identifier], stuckTasks: [], errors: [] });
    const asked = ofType(w, sessionId, "elicitation");
    expect(asked).toHaveLength(2);
    expect(asked[1]?.content.body).toMatch(/^"the blue one" does not match any repository I may work in\./);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "needs-input", sessionShown: { sessionId, ended: `ask-repo:${stuck?.repoQuestion?.key}` } });
    // Shown now: a later sweep leaves it alone.
    expect(await reconcile(w, "q2")).toMatchObject({ unaskedQuestions: [], errors: [] });
    expect(ofType(w, sessionId, "elicitation")).toHaveLength(2);
  }, 60_000);
});
