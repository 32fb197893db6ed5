import { afterEach, describe, expect, it } from "vitest";
import { queueTick } from "../../jobs/tree/queue-tree.js";
import { delegateIssue } from "../fakes/linear/agent-webhooks.js";
import type { SplitPlan } from "../../src/tasks/task.js";
import { agentActivities, delegate, mention, ofType, prompt, turnsByIssue } from "../helpers/sessions.js";
import { bash, create, say } from "../helpers/turns.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

const REPORT = "## Summary\ngreet.txt now says hello, world.\n## Files\ngreet.txt\n## Decisions\nnone\n## Open points\nnone";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("Linear agent sessions: delegation and @mentions become work, the session shows it", () => {
  it("delegation while both agent slots are busy: a thought within 10 s, then the PR, its external URL and a response", async () => {
    const turns = turnsByIssue();
    world = await startWorld({ env: { AGENT_CONCURRENCY: "2" }, anthropic: { intercept: turns.intercept } });
    const w = world;
    const busy = [w.newIssue({ title: "Keep slot one busy" }), w.newIssue({ title: "Keep slot two busy" })];
    for (const b of busy) turns.plans.set(b.title, [bash("sleep 30")]);
    const busyJobs = [];
    for (const b of busy) busyJobs.push((await w.labelIssue(b)).body.jobId as string);
    await w.waitFor(() => w.anthropic.requests.length >= 2, "both agents to start their long commands");

    const issue = w.newIssue({ title: "Greet the world politely", labels: [] });
    turns.plans.set(issue.title, [create("greet.txt", "hello, world\n"), bash("sh check.sh && echo ok"), say(REPORT)]);
    const started = Date.now();
    const { sessionId, res } = await delegate(w, issue);
    expect(res).toMatchObject({ status: 200, body: { status: "accepted", intent: "implement" } });

    const thoughts = await w.waitFor(() => {
      const t = ofType(w, sessionId, "thought");
      return t.length > 0 ? t : null;
    }, "the session's first thought", 10_000);
    const ack = thoughts?.[0];
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(ack?.content.body).toMatch(/^Queued ENG-3: 2 agent jobs are running; it is number 1 in line/);
    expect(await (await w.deps.queues.implement.getJob(res.body.jobId as string))?.getState()).toBe("waiting");

    // Free the slots: the delegated issue's agent runs to a PR.
    for (const b of busy) await w.unlabelIssue(b);
    for (const id of busyJobs) expect(await w.waitForJob(id)).toBe("failed");
    expect(await w.waitForJob(res.body.jobId as string, "implement", 30_000)).toBe("completed");

    const { data: pulls } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "open" });
    const pr = pulls.find((p) => p.head.ref === "agent/eng-3");
    expect(pr).toBeDefined();
    const session = w.linear.store.agentSessions.get(sessionId);
    expect(session?.externalLinks).toEqual([{ label: "Pull request", url: pr?.html_url }]);
    expect(session?.plan).toEqual([
      { content: `Route to a repository: ${OWNER}/${REPO}`, status: "completed" },
      { content: "Prepare the workspace", status: "completed" },
      { content: "Implement", status: "completed" },
      { content: "Run checks: `sh check.sh` passed", status: "completed" },
      { content: `Open the pull request: #${pr?.number}`, status: "completed" },
    ]);
    const actions = ofType(w, sessionId, "action").map((a) => a.content);
    expect(actions).toContainEqual({ type: "action", action: "Ran checks", parameter: "sh check.sh", result: "passed" });
    expect(actions.some((a) => a.action === "Pushed" && a.parameter === "agent/eng-3")).toBe(true);
    const responses = ofType(w, sessionId, "response");
    expect(responses).toHaveLength(1);
    expect(responses[0]?.content.body).toContain(`[PR #${pr?.number}](${pr?.html_url})`);
    expect(responses[0]?.content.body).toContain("greet.txt now says hello, world.");
    expect(responses[0]?.content.body).toContain("**Checks:** `sh check.sh` passed");
    expect(responses[0]?.content.body).toMatch(/\*\*Cost:\*\* 3 turns .* \$\d+\.\d+/);
    expect(ofType(w, sessionId, "error")).toHaveLength(0);
    expect(session?.status).toBe("complete");

    // The session replaced the progress comment: the issue has Linear's stub and the response's echo only.
    const comments = w.linear.store.commentsFor(issue.id).map((c) => c.body);
    expect(comments.some((b) => b.includes("**Agent:"))).toBe(false);
    expect(w.linear.store.getIssue(issue.id)?.delegateId).toBe(w.linear.store.viewerId);
    // Linear's best practices: the unstarted issue moved to the started state, then In Review; the
    // agent is the delegate and no issue update ever set an assignee (the human stays accountable).
    const issueUpdates = w.linear.requests.filter((r) => r.operationName === "updateIssue");
    const moves = issueUpdates.filter((r) => r.variables.id === issue.id).map((r) => w.linear.store.workflowStates.get((r.variables.input as { stateId: string }).stateId)?.name);
    expect(moves).toEqual(["In Progress", "In Review"]);
    expect(issueUpdates.filter((r) => "assigneeId" in (r.variables.input as object))).toEqual([]);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", session: { id: sessionId, organizationId: w.linear.store.organization.id } });
    // The label path is as it was: the busy issues kept their progress comments.
    expect(w.linear.store.commentsFor(busy[0]!.id).some((c) => c.body.includes("Agent: Stopped"))).toBe(true);
    // Linear's context reached the agent, as data.
    const first = w.anthropic.requests.find((r) => String(r.body.messages[0].content[0].text).includes(issue.title));
    expect(first?.body.messages[0].content[0].text).toContain("<linear_context>");
  });

  it("an @mention in a thread brings the thread's earlier comments into the agent's prompt", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue({ labels: [] });
    w.anthropic.script([create("greet.txt", "hello, world\n"), say(REPORT)]);
    const { sessionId, res } = await mention(w, issue, "@agent-workforce can you fix this?", ["The greeting is too curt.", "Agreed: make it say hello, world."]);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    const text = w.anthropic.requests[0]?.body.messages[0].content[0].text as string;
    expect(text).toContain("<thread_comment>\nThe greeting is too curt.\n</thread_comment>");
    expect(text).toContain("<thread_comment>\nAgreed: make it say hello, world.\n</thread_comment>");
    expect(text).toContain("@agent-workforce can you fix this?");
    expect(ofType(w, sessionId, "response")).toHaveLength(1);
  });

  it("a message in the session while the PR is open becomes one revision for the burst, answered with a response", async () => {
    world = await startWorld({ env: { REVISION_DEBOUNCE_MS: "400" } });
    const w = world;
    const issue = w.newIssue({ labels: [] });
    w.anthropic.script([create("greet.txt", "hello, world\n"), say(REPORT)]);
    const { sessionId, res } = await delegate(w, issue);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    const before = w.anthropic.requests.length;

    w.anthropic.script([create("greet.txt", "hello, World!\n"), say("## Summary\nCapitalised World and added an exclamation mark.\n## Replies\nnone")]);
    const sent = [await prompt(w, sessionId, "Capitalise World, please."), await prompt(w, sessionId, "And add an exclamation mark.")];
    for (const s of sent) expect(s.res.body).toMatchObject({ status: "accepted", intent: "feedback" });
    await w.waitFor(async () => (await w.deps.queues.revise.getJobCounts("completed")).completed === 1, "the revision");
    await w.waitFor(() => ofType(w, sessionId, "response").length === 2, "the revision's response");
    expect(await w.deps.queues.revise.getJobCounts("completed", "failed", "active", "waiting", "delayed")).toMatchObject({ completed: 1, failed: 0, active: 0, waiting: 0, delayed: 0 });

    const revision = w.anthropic.requests[before]?.body.messages[0].content[0].text as string;
    expect(revision).toContain("Capitalise World, please.");
    expect(revision).toContain("And add an exclamation mark.");
    expect(revision).toContain("greet.txt now says hello, world."); // the hand-off note, not the transcript
    expect(await w.remote.show("agent/eng-1", "greet.txt")).toBe("hello, World!");
    const last = ofType(w, sessionId, "response").at(-1);
    expect(last?.content.body).toMatch(/^Revised \[PR #1\]/);
    expect(last?.content.body).toContain("Capitalised World");
    expect(ofType(w, sessionId, "thought").some((t) => String(t.content.body).startsWith("Got it: I'll revise [PR #1]"))).toBe(true);
  });

  it("Stop mid-run halts the agent within 2 s: nothing pushed after it, exactly one confirming response", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue({ labels: [] });
    w.anthropic.script([create("greet.txt", "hello, world\n"), bash("sleep 20"), say(REPORT)]);
    const { sessionId, res } = await delegate(w, issue);
    await w.waitFor(() => w.anthropic.requests.length >= 2, "the agent to start its long command");
    const stopped = Date.now();
    const stop = await prompt(w, sessionId, "Stop", "stop");
    expect(stop.res.body).toMatchObject({ status: "accepted", intent: "cancel" });
    expect(await w.waitForJob(res.body.jobId as string)).toBe("failed");
    expect(Date.now() - stopped).toBeLessThan(2_000);
    await w.waitForJob(stop.res.body.jobId as string, "lifecycle");

    const responses = ofType(w, sessionId, "response");
    expect(responses).toHaveLength(1);
    expect(responses[0]?.content.body).toMatch(/^Stopped\. Stopped: someone pressed Stop/);
    expect(agentActivities(w, sessionId).at(-1)?.id).toBe(responses[0]?.id);
    expect(await w.remote.branches()).toEqual(["main"]);
    const { data: pulls } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all" });
    expect(pulls).toHaveLength(0);
    expect(w.anthropic.requests).toHaveLength(2);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "stopped" });
    expect(w.linear.store.agentSessions.get(sessionId)?.plan).toEqual(expect.arrayContaining([{ content: "Implement", status: "canceled" }]));

    // Stop again with nothing running: still exactly one confirming response for it.
    const again = await prompt(w, sessionId, "Stop", "stop");
    expect(await w.waitForJob(again.res.body.jobId as string, "lifecycle")).toBe("completed");
    expect(ofType(w, sessionId, "response").map((r) => r.content.body)).toEqual([responses[0]?.content.body, "Stopped: nothing was running for ENG-1, and nothing was changed."]);
  });

  it("a `created` delivered three times yields one job, one acknowledgement and one run", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue({ labels: [] });
    w.anthropic.script([create("greet.txt", "hello, world\n"), say(REPORT)]);
    const { sessionId, payload, res } = await delegate(w, issue);
    // Linear re-signs each retry with a new webhookTimestamp.
    const again = [await w.sendLinear({ ...payload, webhookTimestamp: Date.now() + 1 }), await w.sendLinear({ ...payload, webhookTimestamp: Date.now() + 2 })];
    for (const r of again) expect(r.body).toMatchObject({ status: "duplicate", jobId: res.body.jobId });
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    await w.waitFor(() => ofType(w, sessionId, "response").length === 1, "the response");
    expect(await w.deps.queues.implement.getJobCounts("completed", "failed", "active", "waiting", "delayed")).toMatchObject({ completed: 1, failed: 0, active: 0, waiting: 0, delayed: 0 });
    expect(await w.deps.queues.ack.getJobCounts("completed", "failed")).toEqual({ completed: 1, failed: 0 });
    expect(ofType(w, sessionId, "thought").filter((t) => String(t.content.body).includes("ENG-1") && !String(t.content.body).startsWith("Got it"))).toHaveLength(1);
  });

  it("a retried ack or implement job of an older session does not take the task back from a newer one", async () => {
    world = await startWorld({ defaultRepo: null, routing: { repos: { [`${OWNER}/${REPO}`]: {}, [`${OWNER}/gadgets`]: {} } } });
    const w = world;
    const issue = w.newIssue({ labels: [] });
    const older = await delegate(w, issue);
    await w.waitFor(() => ofType(w, older.sessionId, "elicitation").length === 1, "the question in the older session");
    expect(await w.waitForJob(older.res.body.jobId as string)).toBe("completed");
    await new Promise((r) => setTimeout(r, 20));
    const newer = await mention(w, issue, "@agent please take this");
    await w.waitFor(() => ofType(w, newer.sessionId, "elicitation").length === 1, "the question in the newer session");
    expect(await w.waitForJob(newer.res.body.jobId as string)).toBe("completed");
    const org = w.linear.store.organization.id;
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ session: { id: newer.sessionId, organizationId: org, createdAt: newer.payload.agentSession.createdAt } });

    // The older session's jobs run again (a retry, a stalled job picked up late).
    const ackJob = (await w.deps.queues.ack.getJobs(["completed"])).find((j) => j.data.session.id === older.sessionId);
    expect(ackJob?.data.session.createdAt).toBe(older.payload.agentSession.createdAt);
    await w.deps.queues.ack.add("ack", ackJob!.data, { jobId: "ack-older-again" });
    expect(await w.waitForJob("ack-older-again", "ack" as never)).toBe("completed");
    const implementJob = await w.deps.queues.implement.getJob(older.res.body.jobId as string);
    await w.deps.queues.implement.add("implement", implementJob!.data, { jobId: "implement-older-again" });
    expect(await w.waitForJob("implement-older-again")).toBe("completed");

    // The newer session still shows the task (the stale implement job starts nothing).
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "needs-input", jobId: newer.res.body.jobId, session: { id: newer.sessionId } });
    expect(ofType(w, newer.sessionId, "elicitation")).toHaveLength(1);
    expect(ofType(w, older.sessionId, "elicitation")).toHaveLength(1);
  });

  it("a split parent's session ends once every sub-issue finished: one response naming each with its PR and the roll-up's total", async () => {
    world = await startWorld();
    const w = world;
    const parent = w.newIssue({ title: "Build the whole feature", labels: [] });
    // The session Linear opened for the parent (its job already planned and created the tree).
    const { sessionId } = delegateIssue(w.linear.store, { issueId: parent.id });
    const child = w.linear.store.seedIssue({ teamId: w.team.id, title: "Part one", description: "Brief", labelIds: [w.agentLabel.id], parentId: parent.id });
    const now = new Date().toISOString();
    const plan: SplitPlan = {
      status: "created", goal: "Ship it.", interfaces: "", revisions: 0, approvalCommentId: null, proposedAt: now, approvedBy: "Ada", createdAt: now,
      rollupCommentId: null, budgetUsd: 100, budgetStoppedAt: null, answered: [],
      subtasks: [{ key: "s1", title: "Part one", brief: "Brief", criteria: [], owns: [], dependsOn: [], issueId: child.id, identifier: child.identifier, dropped: null }],
      manager: { usage: { input: 2_000, output: 300, cacheWrite: 0, cacheRead: 0 }, costUsd: 0.25 },
    };
    const session = { id: sessionId, organizationId: w.linear.store.organization.id };
    await w.deps.tasks.ensure({ issueId: parent.id, identifier: parent.identifier, title: parent.title, issueUrl: parent.url });
    await w.deps.tasks.update(parent.id, () => ({ state: "managing", teamId: w.team.id, repo: { owner: OWNER, name: REPO }, plan, session }));
    const prUrl = `https://github.com/${OWNER}/${REPO}/pull/7`;
    await w.deps.tasks.ensure({ issueId: child.id, identifier: child.identifier, title: child.title, issueUrl: child.url });
    await w.deps.tasks.update(child.id, () => ({ teamId: w.team.id, parent: { issueId: parent.id, identifier: parent.identifier, key: "s1" }, state: "working", startedAt: now, costUsd: 1 }));
    await w.deps.tasks.update(child.id, () => ({ state: "pr-open", prNumber: 7, prUrl }));
    await w.deps.tasks.update(child.id, () => ({ state: "merged", finishedAt: now }));

    await queueTick(w.deps.queues, parent.id, "sub-issue merged");
    const responses = await w.waitFor(() => {
      const r = ofType(w, sessionId, "response");
      return r.length > 0 ? r : null;
    }, "the parent's closing response", 30_000);
    expect((await w.deps.tasks.get(parent.id))?.state).toBe("done");
    expect(responses?.map((r) => r.content.body)).toEqual([
      `All 1 sub-issue finished: ${child.identifier} ([PR #7](${prUrl})); total cost $1.25 (manager $0.25, sub-issues $1.00).`,
    ]);
    expect(w.linear.store.agentSessions.get(sessionId)?.plan).toEqual([
      { content: `Route to a repository: ${OWNER}/${REPO}`, status: "completed" },
      { content: "Plan the sub-issues: 1 created in Linear", status: "completed" },
      { content: "Sub-issues: all 1 finished", status: "completed" },
    ]);
    // No agent step ("Implement") and no error: the tree's session ended, once.
    expect(ofType(w, sessionId, "error")).toHaveLength(0);
    // A later tick of the done tree (a retry, the reconciler) posts nothing more.
    await w.deps.queues.lifecycle.add("tick", { kind: "tick", parentIssueId: parent.id, reason: "again" }, { jobId: "tick-again" });
    expect(await w.waitForJob("tick-again", "lifecycle")).toBe("completed");
    expect(ofType(w, sessionId, "response")).toHaveLength(1);
  }, 60_000);
});
