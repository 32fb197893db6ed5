import { afterEach, describe, expect, it } from "vitest";
import type { CancelJobData } from "../../jobs/queues.js";
import { queueCreatePlan, queueLinearTick, queueTick } from "../../jobs/tree/queue-tree.js";
import { stopTree } from "../../jobs/tree/stop-tree.js";
import type { ScriptedTurn } from "../fakes/anthropic/index.js";
import type { FakeIssue } from "../fakes/linear/index.js";
import { prClosed } from "../fixtures/github-events.js";
import { REVIEWER } from "../helpers/review.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";
import type { PlannedSubtask, SplitPlan, Task } from "../../src/tasks/task.js";

// A parent whose plan is created (as createPlan leaves it: sub-issues under the parent in Linear,
// child tasks linked to it), run by the manager's ticks through the real service.

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

// The fake has no request limit to respect; a tree's many status edits would queue behind the default budget.
const ENV = { LINEAR_REQUESTS_PER_HOUR: "360000" };

interface Call {
  issue: string;
  at: number;
  first: boolean;
}

/** Every sub-issue's agent: a slow shell command writing its own file, then its report; `giveUp` ones change nothing. */
function scriptAgents(w: World, calls: Call[], sessions: number, giveUp: string[] = []): void {
  const turn = (req: any): ScriptedTurn => {
    const content = req.messages[0].content;
    const text = typeof content === "string" ? content : content.map((c: { text?: string }) => c.text ?? "").join("\n");
    const issue = /<issue id="([^"]+)"/.exec(text)?.[1] ?? "?";
    const first = req.messages.length === 1;
    calls.push({ issue, at: Date.now(), first });
    const file = issue.toLowerCase();
    if (giveUp.includes(issue)) return { content: [{ type: "text", text: "Nothing to change here." }] };
    return first
      ? { content: [{ type: "tool_use", name: "bash", input: { command: `sleep 0.8 && echo ${issue} > ${file}.txt` } }] }
      : { content: [{ type: "text", text: `## Summary\nWrote ${file}.txt. NOTE-${issue}` }] };
  };
  w.anthropic.script(Array.from({ length: sessions * 2 }, () => turn));
}

/** [start, end] of each agent session, by issue identifier. */
function sessionsOf(calls: Call[]): Map<string, { start: number; end: number }> {
  const out = new Map<string, { start: number; end: number }>();
  for (const c of calls) {
    const s = out.get(c.issue) ?? { start: c.at, end: c.at };
    if (c.first) s.start = c.at;
    else s.end = c.at;
    out.set(c.issue, s);
  }
  return out;
}

interface Tree {
  parent: FakeIssue;
  subs: Record<string, FakeIssue>;
}

/** Seeds the parent, its sub-issues in the Linear fake and the task records createPlan would leave. */
async function seedTree(w: World, deps: Record<string, string[]>, planPatch: Partial<SplitPlan> = {}): Promise<Tree> {
  const parent = w.newIssue({ title: "Build the whole feature", description: "A large piece of work." });
  const subs: Record<string, FakeIssue> = {};
  const subtasks: PlannedSubtask[] = [];
  for (const [key, dependsOn] of Object.entries(deps)) {
    const issue = w.linear.store.seedIssue({
      teamId: w.team.id,
      title: `Part ${key}`,
      description: `Brief of ${key}: write your file.`,
      labelIds: [w.agentLabel.id],
      parentId: parent.id,
    });
    subs[key] = issue;
    subtasks.push({ key, title: issue.title, brief: `Brief of ${key}`, criteria: [], owns: [], dependsOn, issueId: issue.id, identifier: issue.identifier, dropped: null });
  }
  const now = new Date().toISOString();
  const plan: SplitPlan = {
    status: "created",
    goal: "Ship the feature in parts.",
    interfaces: "Each part writes its own file.",
    subtasks,
    revisions: 0,
    approvalCommentId: null,
    proposedAt: now,
    approvedBy: "Ada",
    createdAt: now,
    rollupCommentId: null,
    budgetUsd: 100,
    budgetStoppedAt: null,
    manager: { usage: { input: 2_000, output: 300, cacheWrite: 0, cacheRead: 0 }, costUsd: 0.01 },
    answered: [],
    ...planPatch,
  };
  const tasks = w.deps.tasks;
  await tasks.ensure({ issueId: parent.id, identifier: parent.identifier, title: parent.title, issueUrl: parent.url });
  await tasks.update(parent.id, () => ({ state: "managing", teamId: w.team.id, plan }));
  for (const sub of subtasks) {
    const issue = subs[sub.key] as FakeIssue;
    await tasks.ensure({ issueId: issue.id, identifier: issue.identifier, title: issue.title, issueUrl: issue.url });
    await tasks.update(issue.id, () => ({ teamId: w.team.id, parent: { issueId: parent.id, identifier: parent.identifier, key: sub.key } }));
  }
  return { parent, subs };
}

const stateOf = (w: World, issue: FakeIssue) => w.linear.store.workflowStates.get(w.linear.store.getIssue(issue.id)?.stateId ?? "")?.type;
const rollups = (w: World, parent: FakeIssue) => w.linear.store.commentsFor(parent.id).filter((c) => c.body.includes(`Sub-issues of ${parent.identifier}`));
const task = async (w: World, issue: FakeIssue) => (await w.deps.tasks.get(issue.id)) as Task;

/** Merges a sub-issue's PR in the GitHub fake and sends the pull_request closed webhook. */
async function merge(w: World, issue: FakeIssue): Promise<void> {
  const t = await task(w, issue);
  const pr = t.prNumber as number;
  w.github.mergePull(OWNER, REPO, pr);
  const res = await w.sendGitHub("pull_request", prClosed({ owner: OWNER, repo: REPO, pr, branch: t.branch as string, merged: true, by: REVIEWER }));
  expect(await w.waitForJob(res.body.jobId, "lifecycle")).toBe("completed");
}

const started = (t: Task | null) => Boolean(t?.startedAt);

/** Runs one reconcile sweep and waits for it. */
async function reconcile(w: World, id: string): Promise<void> {
  await w.deps.queues.reconcile.add("reconcile", { kind: "reconcile" }, { jobId: id });
  expect(await w.waitForJob(id, "reconcile" as never)).toBe("completed");
}

describe("a split parent runs its sub-issues in dependency order", () => {
  it("runs the independent ones in parallel, starts the dependants after both blockers merged, edits one roll-up, and completes the parent", async () => {
    world = await startWorld({ env: { ...ENV, AGENT_CONCURRENCY: "4" } });
    const w = world;
    const calls: Call[] = [];
    scriptAgents(w, calls, 4);
    const { parent, subs } = await seedTree(w, { s1: [], s2: [], s3: ["s1", "s2"], s4: ["s1", "s2"] });
    const [s1, s2, s3, s4] = ["s1", "s2", "s3", "s4"].map((k) => subs[k] as FakeIssue) as [FakeIssue, FakeIssue, FakeIssue, FakeIssue];
    await queueTick(w.deps.queues, parent.id, "plan created");

    await w.waitFor(async () => (await task(w, s1)).state === "pr-open" && (await task(w, s2)).state === "pr-open", "s1 and s2 open their PRs", 60_000);
    const sessions = sessionsOf(calls);
    const [a, b] = [sessions.get(s1.identifier), sessions.get(s2.identifier)];
    expect(a && b && a.start < b.end && b.start < a.end).toBe(true);
    expect(stateOf(w, parent)).toBe("started");
    // The dependants wait for both blockers: not started, no agent call for them.
    expect(started(await task(w, s3)) || started(await task(w, s4))).toBe(false);
    expect(sessions.has(s3.identifier) || sessions.has(s4.identifier)).toBe(false);
    await w.waitFor(() => rollups(w, parent)[0]?.body.includes("pull request in review"), "the roll-up shows the PRs");

    await merge(w, s1);
    await w.waitFor(() => rollups(w, parent)[0]?.body.includes(`- [x] ${s1.identifier}`), "the roll-up shows s1 merged");
    expect(started(await task(w, s3)) || started(await task(w, s4))).toBe(false);

    await merge(w, s2);
    await w.waitFor(async () => (await task(w, s3)).state === "pr-open" && (await task(w, s4)).state === "pr-open", "s3 and s4 open their PRs", 60_000);
    // Each dependant started after both of its blockers merged.
    const mergedAt = Math.max(Date.parse((await task(w, s1)).finishedAt as string), Date.parse((await task(w, s2)).finishedAt as string));
    for (const s of [s3, s4]) expect(Date.parse((await task(w, s)).startedAt as string)).toBeGreaterThanOrEqual(mergedAt);
    expect((await task(w, parent)).state).toBe("managing");

    await merge(w, s3);
    await merge(w, s4);
    await w.waitFor(async () => (await task(w, parent)).state === "done", "the parent is done", 30_000);
    expect(stateOf(w, parent)).toBe("completed");
    await w.waitFor(() => rollups(w, parent)[0]?.body.includes("4 of 4 finished"), "the roll-up shows every sub-issue finished");
    const [rollup, ...more] = rollups(w, parent);
    expect(more).toHaveLength(0);
    expect(rollup?.editedAt).not.toBeNull();
    expect(rollup?.body).toContain("✅ Every sub-issue is finished.");
    expect(rollup?.body).toMatch(/\*\*Total cost:\*\* \$\d/);
    expect(rollup?.body).toMatch(/State transfer.*% of all [\d,]+ input tokens/);
  }, 180_000);

  it("drops a sub-issue a human cancels in Linear, and the parent still completes", async () => {
    world = await startWorld({ env: ENV });
    const w = world;
    scriptAgents(w, [], 2);
    const { parent, subs } = await seedTree(w, { s1: [], s2: ["s1"] });
    const [s1, s2] = [subs.s1 as FakeIssue, subs.s2 as FakeIssue];
    await queueTick(w.deps.queues, parent.id, "plan created");
    await w.waitFor(async () => (await task(w, s1)).state === "pr-open", "s1 opens its PR", 60_000);

    const canceled = w.linear.store.findState(w.team.id, { type: "canceled" });
    const stored = w.linear.store.getIssue(s2.id) as FakeIssue;
    const before = stored.stateId;
    stored.stateId = canceled?.id as string;
    const res = await w.sendIssueWebhook(s2, "update", { stateId: before });
    expect(res.status).toBeLessThan(300);
    await w.waitFor(() => rollups(w, parent)[0]?.body.includes(`~~${s2.identifier} Part s2~~ — dropped (cancelled in Linear)`), "the roll-up shows s2 dropped", 30_000);
    expect((await task(w, parent)).plan?.subtasks.find((s) => s.key === "s2")?.dropped).toBe("canceled");

    await merge(w, s1);
    await w.waitFor(async () => (await task(w, parent)).state === "done", "the parent is done", 30_000);
    expect(stateOf(w, parent)).toBe("completed");
    expect(started(await task(w, s2))).toBe(false);
    expect(rollups(w, parent)).toHaveLength(1);
  }, 120_000);

  it("removing the parent's label stops its unfinished sub-issues with it, and says so", async () => {
    world = await startWorld({ env: ENV });
    const w = world;
    scriptAgents(w, [], 2);
    const { parent, subs } = await seedTree(w, { s1: [], s2: ["s1"] });
    const [s1, s2] = [subs.s1 as FakeIssue, subs.s2 as FakeIssue];
    await queueTick(w.deps.queues, parent.id, "plan created");
    await w.waitFor(async () => (await task(w, s1)).state === "pr-open", "s1 opens its PR", 60_000);

    const res = await w.unlabelIssue(parent);
    expect(await w.waitForJob(String(res.body.jobId), "lifecycle")).toBe("completed");
    const stopped = await task(w, parent);
    expect(stopped.state).toBe("stopped");
    expect(stopped.error).toContain(`its unfinished sub-issues (${s1.identifier}, ${s2.identifier}) were stopped too`);
    expect((await task(w, s1)).state).toBe("stopped");
    expect((await task(w, s1)).error).toContain("its parent issue was stopped");
    expect((await task(w, s2)).state).toBe("stopped");
    expect(started(await task(w, s2))).toBe(false);
  }, 120_000);

  it("a failed sub-issue puts the parent under Needs you; the reconciler follows a sub-issue a human took out and one a human added", async () => {
    world = await startWorld({ env: ENV });
    const w = world;
    const { parent, subs } = await seedTree(w, { s1: [], s2: [] });
    const [s1, s2] = [subs.s1 as FakeIssue, subs.s2 as FakeIssue];
    scriptAgents(w, [], 3, [s2.identifier]);
    await queueTick(w.deps.queues, parent.id, "plan created");
    await w.waitFor(async () => (await task(w, parent)).step === `needs you: ${s2.identifier} failed`, "the parent needs a human", 60_000);
    await w.waitFor(() => rollups(w, parent)[0]?.body.includes(`❗ **Needs you:**\n- ${s2.identifier} failed: The agent finished without changing any file.`), "the roll-up says s2 failed");
    expect((await task(w, parent)).state).toBe("managing");

    // In Linear, without a webhook reaching us: s2 leaves the parent, a new sub-issue joins it.
    (w.linear.store.getIssue(s2.id) as FakeIssue).parentId = null;
    const added = w.linear.store.seedIssue({ teamId: w.team.id, title: "Part added by Ada", description: "Write your file.", labelIds: [w.agentLabel.id], parentId: parent.id });
    await reconcile(w, "sweep-1");
    await w.waitFor(() => rollups(w, parent)[0]?.body.includes(`~~${s2.identifier} Part s2~~ — dropped (removed in Linear)`), "the roll-up shows s2 removed", 30_000);
    // Taken out of the tree, s2's task no longer names the parent.
    await w.waitFor(async () => (await task(w, s2)).parent === null, "s2 leaves the tree");
    const plan = (await task(w, parent)).plan;
    expect(plan?.subtasks.find((s) => s.issueId === added.id)).toMatchObject({ key: `added-${added.identifier}`, dependsOn: [], dropped: null });
    await w.waitFor(async () => (await task(w, added)).state === "pr-open" && (await task(w, s1)).state === "pr-open", "s1 and the added sub-issue open their PRs", 60_000);
    expect((await task(w, added)).parent).toMatchObject({ issueId: parent.id, key: `added-${added.identifier}` });
    await w.waitFor(async () => !(await task(w, parent)).step?.startsWith("needs you"), "the parent no longer needs a human");

    await merge(w, s1);
    await merge(w, added);
    await w.waitFor(async () => (await task(w, parent)).state === "done", "the parent is done", 30_000);
    expect(stateOf(w, parent)).toBe("completed");
    expect(rollups(w, parent)).toHaveLength(1);
  }, 120_000);

  it("starts no new sub-issue once the tree budget is reached, and says so", async () => {
    world = await startWorld({ env: ENV });
    const w = world;
    const { parent, subs } = await seedTree(w, { s1: [], s2: ["s1"] }, { budgetUsd: 1 });
    const [s1, s2] = [subs.s1 as FakeIssue, subs.s2 as FakeIssue];
    // s1 already ran and merged, spending more than the tree's budget.
    await w.deps.tasks.update(s1.id, () => ({ state: "working", startedAt: new Date().toISOString() }));
    await w.deps.tasks.update(s1.id, () => ({ state: "pr-open" }));
    await w.deps.tasks.update(s1.id, () => ({ state: "merged", costUsd: 1.5, finishedAt: new Date().toISOString() }));
    await queueTick(w.deps.queues, parent.id, "s1 merged");

    await w.waitFor(() => rollups(w, parent)[0]?.body.includes("Tree budget reached"), "the roll-up says the budget stopped new sub-issues");
    const p = await task(w, parent);
    expect(p.plan?.budgetStoppedAt).toBeTruthy();
    expect(p.state).toBe("managing");
    expect(p.step).toBe("needs you: tree budget reached ($1.51 of $1.00); no new sub-issue starts");
    expect(rollups(w, parent)[0]?.body).toContain(`${s2.identifier} Part s2 — not started: the tree budget is reached`);
    expect(await w.deps.queues.implement.getJob(`subtask-${s2.id}-start`)).toBeUndefined();
    expect(started(await task(w, s2))).toBe(false);
  }, 60_000);
});

/** A task moved through the states an agent would take to reach `state` (the state machine allows no jump). */
async function ranTo(w: World, issue: FakeIssue, state: "working" | "pr-open" | "merged"): Promise<void> {
  const path = ["working", "pr-open", "merged"] as const;
  for (const s of path.slice(0, path.indexOf(state) + 1)) {
    await w.deps.tasks.update(issue.id, () => ({ state: s, startedAt: new Date().toISOString(), ...(s === "merged" ? { finishedAt: new Date().toISOString() } : {}) }));
  }
}

/** Every implement job of an issue, whatever its state. */
async function implementJobsOf(w: World, issueId: string) {
  const jobs = await w.deps.queues.implement.getJobs(["waiting", "delayed", "prioritized", "active", "completed", "failed"]);
  return jobs.filter((j) => j?.data.issueId === issueId);
}

const cancelData = (issue: FakeIssue, reason: CancelJobData["reason"]): CancelJobData => ({
  kind: "cancel",
  issueId: issue.id,
  identifier: issue.identifier,
  reason,
  eventAt: new Date().toISOString(),
  source: { delivery: `test-${reason}`, receivedAt: new Date().toISOString(), actor: null },
});

describe("the manager's repairs", () => {
  it("the reconciler leaves a sub-issue waiting for its blockers alone (no repair job every sweep)", async () => {
    world = await startWorld({ env: { ...ENV, JOB_LOCK_MS: "1000" } });
    const w = world;
    const { subs } = await seedTree(w, { s1: [], s2: ["s1"] });
    const [s1, s2] = [subs.s1 as FakeIssue, subs.s2 as FakeIssue];
    await ranTo(w, s1, "pr-open");
    await w.deps.tasks.update(s2.id, () => ({ state: "queued", step: `waiting for ${s1.identifier} to merge` }));
    // Older than a lost job's grace period (twice the lock).
    await new Promise((r) => setTimeout(r, 2_500));
    await reconcile(w, "sweep-waiting");
    const report = (await w.deps.queues.reconcile.getJob("sweep-waiting"))?.returnvalue as { stuckTasks: string[] };
    expect(report.stuckTasks).not.toContain(s2.identifier);
    expect(await implementJobsOf(w, s2.id)).toHaveLength(0);
  }, 60_000);

  it("a sub-issue a human added without the agent label is theirs: never started, shown as human, finished when completed in Linear", async () => {
    world = await startWorld({ env: ENV });
    const w = world;
    const { parent, subs } = await seedTree(w, { s1: [] });
    await ranTo(w, subs.s1 as FakeIssue, "merged");
    const added = w.linear.store.seedIssue({ teamId: w.team.id, title: "Ada's own part", description: "I do this one.", labelIds: [], parentId: parent.id });
    await queueLinearTick(w.deps.queues, parent.id, "test");
    await w.waitFor(() => rollups(w, parent)[0]?.body.includes(`${added.identifier} Ada's own part — human`), "the roll-up shows the human's sub-issue", 30_000);
    expect((await task(w, parent)).state).toBe("managing");
    expect(await w.deps.tasks.get(added.id)).toBeNull();
    expect(await implementJobsOf(w, added.id)).toHaveLength(0);

    (w.linear.store.getIssue(added.id) as FakeIssue).stateId = w.linear.store.findState(w.team.id, { type: "completed" })?.id as string;
    await queueLinearTick(w.deps.queues, parent.id, "test");
    await w.waitFor(async () => (await task(w, parent)).state === "done", "the parent is done", 30_000);
    expect(await implementJobsOf(w, added.id)).toHaveLength(0);
  }, 60_000);

  it("moves the parent to started when a child started by its own label is past waiting", async () => {
    world = await startWorld({ env: ENV });
    const w = world;
    const { parent, subs } = await seedTree(w, { s1: [], s2: ["s1"] });
    await ranTo(w, subs.s1 as FakeIssue, "pr-open");
    await queueTick(w.deps.queues, parent.id, "test");
    await w.waitFor(() => rollups(w, parent)[0]?.body.includes("pull request in review"), "the roll-up shows s1's PR", 30_000);
    expect(stateOf(w, parent)).toBe("started");
  }, 60_000);

  it("a blocker completed in Linear without a merged PR puts the parent under Needs you, and its dependant stays waiting", async () => {
    world = await startWorld({ env: ENV });
    const w = world;
    const { parent, subs } = await seedTree(w, { s1: [], s2: ["s1"] });
    const [s1, s2] = [subs.s1 as FakeIssue, subs.s2 as FakeIssue];
    (w.linear.store.getIssue(s1.id) as FakeIssue).stateId = w.linear.store.findState(w.team.id, { type: "completed" })?.id as string;
    await queueLinearTick(w.deps.queues, parent.id, "test");
    const want = `needs you: ${s2.identifier} waits on ${s1.identifier}, completed in Linear without a merged PR`;
    await w.waitFor(async () => (await task(w, parent)).step === want, "the parent needs a human", 30_000);
    expect(started(await task(w, s2))).toBe(false);
    expect(await implementJobsOf(w, s2.id)).toHaveLength(0);
  }, 60_000);

  it("completing a managed parent in Linear while a sub-issue is unfinished stops its tree; the stopped parent's roll-up shows it", async () => {
    world = await startWorld({ env: ENV });
    const w = world;
    const { parent, subs } = await seedTree(w, { s1: [], s2: ["s1"] });
    const [s1, s2] = [subs.s1 as FakeIssue, subs.s2 as FakeIssue];
    await ranTo(w, s1, "pr-open");
    await w.deps.queues.lifecycle.add("cancel", cancelData(parent, "issue-completed"), { jobId: "complete-parent" });
    expect(await w.waitForJob("complete-parent", "lifecycle")).toBe("completed");
    expect((await task(w, parent)).state).toBe("stopped");
    expect((await task(w, s1)).state).toBe("stopped");
    await w.waitFor(() => rollups(w, parent)[0]?.body.includes(`${s1.identifier} Part s1 — stopped`), "the roll-up shows s1 stopped", 30_000);
    expect(rollups(w, parent)[0]?.body).toContain("⏹️ **Stopped:**");
    expect(started(await task(w, s2))).toBe(false);
  }, 60_000);

  it("an uninstalled app's parent stops its children as app-revoked, not parent-stopped", async () => {
    world = await startWorld({ env: ENV });
    const w = world;
    const { parent, subs } = await seedTree(w, { s1: [], s2: ["s1"] });
    const asked: CancelJobData[] = [];
    const { stopped } = await stopTree(w.deps, await task(w, parent), cancelData(parent, "app-revoked"), "the Linear app was uninstalled", async (d) => {
      asked.push(d);
      return "ok";
    });
    expect(stopped).toEqual([(subs.s1 as FakeIssue).identifier, (subs.s2 as FakeIssue).identifier]);
    expect(asked.map((d) => d.reason)).toEqual(["app-revoked", "app-revoked"]);
  }, 30_000);
});

describe("an approved plan whose creation job failed", () => {
  it("is created again: the reconciler re-queues a managing parent's 'creating' plan, retrying its failed job (same id)", async () => {
    world = await startWorld({ env: ENV });
    const w = world;
    const spec: PlannedSubtask = { key: "s1", title: "Part s1", brief: "Brief of s1", criteria: [], owns: [], dependsOn: [], issueId: null, identifier: null, dropped: null };
    const { parent } = await seedTree(w, {}, { status: "creating", createdAt: null, subtasks: [spec] });
    const planAt = (await task(w, parent)).plan?.proposedAt as string;
    // Its only attempt fails (Linear down), as a job past its retries would: kept as failed under its fixed id.
    w.linear.failNext(1, "internal", { operation: "AgentPlanParent" });
    const jobId = `create-plan-${parent.id}-${Date.parse(planAt)}`;
    await w.deps.queues.lifecycle.add("create-plan", { kind: "create-plan", parentIssueId: parent.id, reason: "plan approved" }, { jobId, attempts: 1 });
    expect(await w.waitForJob(jobId, "lifecycle")).toBe("failed");
    expect((await task(w, parent)).plan?.status).toBe("creating");

    await reconcile(w, "sweep-creating");
    await w.waitFor(async () => (await task(w, parent)).plan?.status === "created", "the plan is created", 30_000);
    const created = (await task(w, parent)).plan?.subtasks[0];
    expect(w.linear.store.getIssue(created?.issueId as string)).toMatchObject({ parentId: parent.id, title: "Part s1" });
  }, 60_000);
});

describe("a plan creation Linear refuses", () => {
  it("stops the sub-issues it created already (they carry the label) and says how to resume", async () => {
    world = await startWorld({ env: ENV });
    const w = world;
    const spec = (key: string, dependsOn: string[]): PlannedSubtask => ({ key, title: `Part ${key}`, brief: `Brief of ${key}`, criteria: [], owns: [], dependsOn, issueId: null, identifier: null, dropped: null });
    const { parent } = await seedTree(w, {}, { status: "creating", createdAt: null, subtasks: [spec("s1", []), spec("s2", ["s1"])] });
    // s2 vanishes right after Linear created it: relating s1 to it is refused (not found).
    w.linear.beforeAnswer = async (op, variables) => {
      const input = (variables as { input?: { id?: string; title?: string } }).input;
      if (op === "AgentCreateSubIssue" && input?.title === "Part s2" && input.id) w.linear.store.issues.delete(input.id);
    };
    await queueCreatePlan(w.deps.queues, parent.id, (await task(w, parent)).plan?.proposedAt as string);
    await w.waitFor(async () => (await task(w, parent)).state === "failed", "the parent failed", 30_000);
    expect((await task(w, parent)).error).toContain("remove and add the agent label on this issue again");
    const created = (await task(w, parent)).plan?.subtasks ?? [];
    expect(created.every((s) => s.issueId)).toBe(true);
    for (const s of created) {
      await w.waitFor(async () => (await w.deps.tasks.get(s.issueId as string))?.state === "stopped", `${s.key} stopped`, 30_000);
      expect((await w.deps.tasks.get(s.issueId as string))?.error).toContain("its parent issue was stopped");
    }
  }, 60_000);
});

describe("a sub-issue moved to another parent", () => {
  it("is re-pointed by the new parent's tick, and the old parent's tick leaves it there", async () => {
    world = await startWorld({ env: ENV });
    const w = world;
    const a = await seedTree(w, { s1: [] });
    const b = await seedTree(w, { t1: [] });
    const s1 = a.subs.s1 as FakeIssue;
    await ranTo(w, s1, "pr-open");
    (w.linear.store.getIssue(s1.id) as FakeIssue).parentId = b.parent.id;
    await queueLinearTick(w.deps.queues, b.parent.id, "test");
    await w.waitFor(async () => (await task(w, s1)).parent?.issueId === b.parent.id, "s1 points to its new parent", 30_000);
    expect((await task(w, s1)).parent).toMatchObject({ issueId: b.parent.id, key: `added-${s1.identifier}` });
    await queueLinearTick(w.deps.queues, a.parent.id, "test");
    await w.waitFor(() => rollups(w, a.parent)[0]?.body.includes(`~~${s1.identifier} Part s1~~ — dropped (removed in Linear)`), "the old parent drops s1", 30_000);
    expect((await task(w, s1)).parent?.issueId).toBe(b.parent.id);
  }, 60_000);
});
