import { type LinearClient, parseLinearError } from "@linear/sdk";
import { type ChildIssue, createSubIssue, type PlanParent, planUuid, readChildren, readPlanParent, relateBlocks } from "../../src/linear/sub-issues.js";
import { subIssueDescription, subtaskName } from "../../src/status/plan-text.js";
import { type PlannedSubtask, type SplitPlan, type Task, workspaceOf } from "../../src/tasks/task.js";
import { isLinearRefusal, unrecoverable } from "../failures.js";
import type { WorkerDeps } from "../job-context.js";
import { type CancelJobData, safeJobId, type TreeJobData } from "../queues.js";
import { queueTick } from "./queue-tree.js";

/**
 * Creates an approved plan's sub-issues in Linear (under the parent, in its team and project,
 * labelled for the agent), their `blocks` relations
 * and a task per sub-issue, then hands the tree to the tick.
 *
 * Idempotent at every step, so a crash anywhere and the job's retry create nothing twice and
 * forget nothing: each sub-issue and relation has an id derived from the parent, the plan and its
 * key (an existing one is read back), the parent's children and relations are read once first,
 * each created sub-issue is saved on the plan at once, and a child's task (with its parent) is
 * written before its sub-issue exists, so the sub-issue's own webhook finds it a child.
 */
export async function createPlan(deps: WorkerDeps, data: TreeJobData, signal?: AbortSignal): Promise<string> {
  const parentId = data.parentIssueId;
  const log = deps.logger.child({ parent: parentId, kind: data.kind });
  const task = await recordedPlan(deps, parentId);
  const plan = task?.plan;
  // With AGENT_SPLIT_APPROVAL=auto the job is queued just before the plan is saved.
  if (!task || !plan) throw new Error(`no plan is recorded for issue ${parentId} yet; retrying`);
  if (plan.status === "created") {
    // Created, but the job died before it asked for the tick.
    await queueTick(deps.queues, parentId, "plan created");
    return "the plan's sub-issues exist already";
  }
  if (plan.status !== "creating") return `the plan is ${plan.status}, not approved`;
  const linear = deps.clients.linear(signal, workspaceOf(task));
  try {
    const parent = await readPlanParent(linear, { parentId, agentLabel: deps.config.agentLabel });
    if (!parent.agentLabelId) log.warn({ label: deps.config.agentLabel }, "no agent label in the parent's team or workspace; the sub-issues are created without it");
    // What an earlier attempt created already (sub-issues and relations), read once.
    const existing = await readChildren(linear, parentId);
    let current = await createSubIssues(deps, { task, parent, linear, signal, existing });
    await relateAll(linear, current, existing, signal);
    current = await deps.tasks.update(parentId, (t) => (t.plan?.status === "creating" ? { plan: { ...t.plan, status: "created", createdAt: new Date().toISOString() } } : {}));
    // The first sub-issues start on this tick: nothing to gather, so no delay.
    await queueTick(deps.queues, parentId, "plan created", 0);
    const subtasks = current.plan?.subtasks ?? [];
    log.info({ subIssues: subtasks.map((s) => s.identifier), labelled: Boolean(parent.agentLabelId) }, "plan created: sub-issues, blocks relations and their tasks");
    return `created ${subtasks.length} sub-issues`;
  } catch (err) {
    if (signal?.aborted || !refused(err)) throw err;
    const reason =
      `Linear refused the plan's sub-issues (${(err as Error).message}); check that the token may create issues and relations in the parent's team, ` +
      "then remove and add the agent label on this issue again: the approved plan's creation resumes. The sub-issues created so far are kept but stopped; label one again to restart it";
    await deps.tasks.update(parentId, (t) => (t.state === "managing" ? { state: "failed", error: reason, finishedAt: new Date().toISOString() } : {}));
    await stopCreated(deps, parentId, data);
    throw unrecoverable(reason, err);
  }
}

/**
 * After a refusal, the sub-issues already created carry the agent label and would run unmanaged
 * (their label's own webhook starts them): each is stopped through the lifecycle's cancel, which
 * also removes its waiting job. Stopping needs no Linear call, so it works whatever Linear refuses
 * (removing their label would need the very access that may be missing).
 */
async function stopCreated(deps: WorkerDeps, parentId: string, data: TreeJobData): Promise<void> {
  const parent = await deps.tasks.get(parentId);
  const now = new Date().toISOString();
  for (const s of parent?.plan?.subtasks ?? []) {
    if (!s.issueId || !s.identifier) continue;
    const cancel: CancelJobData = { kind: "cancel", issueId: s.issueId, identifier: s.identifier, reason: "parent-stopped", eventAt: now, source: { delivery: `plan-refused-${parentId}`, receivedAt: now, actor: null } };
    await deps.queues.lifecycle.add("cancel", cancel, { jobId: safeJobId("cancel", s.issueId, "plan-refused", Date.parse(now)) });
  }
  deps.logger.warn({ parent: parentId, reason: data.reason }, "plan creation refused; the sub-issues created so far are stopped");
}

type Creating = { task: Task; parent: PlanParent; linear: LinearClient; signal: AbortSignal | undefined; existing: ChildIssue[] };

/** Creates the sub-issues not created yet, blockers first, each saved on the plan at once. Returns the parent. */
async function createSubIssues(deps: WorkerDeps, p: Creating): Promise<Task> {
  const { parent } = p;
  const existing = new Map(p.existing.map((c) => [c.id, c]));
  let current = p.task;
  const plan = current.plan as SplitPlan;
  for (const key of blockersFirst(plan.subtasks)) {
    const s = (current.plan as SplitPlan).subtasks.find((x) => x.key === key) as PlannedSubtask;
    // Saved on the plan: created; what a human did to it since is the tick's business.
    if (s.issueId && s.identifier) {
      await ensureChildTask(deps, { parentTask: current, teamId: parent.teamId, s, id: s.issueId, known: { identifier: s.identifier } });
      continue;
    }
    const id = planUuid(parent.id, plan.proposedAt, s.key);
    await ensureChildTask(deps, { parentTask: current, teamId: parent.teamId, s, id });
    const created =
      existing.get(id) ??
      (await createSubIssue(p.linear, {
        id,
        parentId: parent.id,
        teamId: parent.teamId,
        projectId: parent.projectId,
        title: s.title,
        description: subIssueDescription(s, { parentIdentifier: parent.identifier, dependsOn: dependencyNames(current, s) }),
        // Labelled only, never delegated: the label opens the sub-issue's session itself when the
        // app is installed (label-session), while a delegation's session could turn the child's
        // job into a revision of an open PR.
        labelIds: parent.agentLabelId ? [parent.agentLabelId] : [],
        ...(p.signal ? { signal: p.signal } : {}),
      }));
    current = await deps.tasks.update(parent.id, (t) =>
      t.plan ? { plan: { ...t.plan, subtasks: t.plan.subtasks.map((x) => (x.key === s.key ? { ...x, issueId: created.id, identifier: created.identifier } : x)) } } : {},
    );
    await ensureChildTask(deps, { parentTask: current, teamId: parent.teamId, s, id, known: { identifier: created.identifier, url: created.url } });
  }
  return current;
}

/**
 * A sub-issue's task, linked to its parent, written before the sub-issue exists (its identifier a
 * placeholder until then): the sub-issue's own Linear webhook may start a job for it at once, which
 * must find a child that waits for its blockers, not a new issue of its own.
 */
async function ensureChildTask(
  deps: WorkerDeps,
  p: { parentTask: Task; teamId: string; s: PlannedSubtask; id: string; known?: { identifier: string; url?: string } },
): Promise<void> {
  const { parentTask, s } = p;
  const child = await deps.tasks.ensure({ issueId: p.id, identifier: p.known?.identifier ?? `${parentTask.identifier}/${s.key}`, title: s.title, issueUrl: p.known?.url ?? null });
  const patch: Partial<Task> = {};
  if (child.parent?.issueId !== parentTask.issueId) {
    Object.assign(patch, { parent: { issueId: parentTask.issueId, identifier: parentTask.identifier, key: s.key }, teamId: p.teamId, organizationId: workspaceOf(parentTask) ?? null });
  }
  if (p.known && child.identifier !== p.known.identifier) Object.assign(patch, { identifier: p.known.identifier, ...(p.known.url ? { issueUrl: p.known.url } : {}) });
  if (Object.keys(patch).length) await deps.tasks.update(p.id, () => patch);
}

/** Creates the `blocks` relations the plan's dependencies call for, skipping those Linear already has. */
async function relateAll(linear: LinearClient, parentTask: Task, children: ChildIssue[], signal: AbortSignal | undefined): Promise<void> {
  const plan = parentTask.plan as SplitPlan;
  const byKey = new Map(plan.subtasks.map((s) => [s.key, s]));
  const there = new Set(children.flatMap((c) => c.relations.filter((r) => r.type === "blocks").map((r) => `${r.issueId}>${r.relatedIssueId}`)));
  for (const s of plan.subtasks) {
    for (const key of s.dependsOn) {
      const blocker = byKey.get(key);
      if (!blocker?.issueId || !s.issueId || blocker.key === s.key) continue;
      if (there.has(`${blocker.issueId}>${s.issueId}`)) continue;
      await relateBlocks(linear, { id: planUuid(parentTask.issueId, plan.proposedAt, `blocks:${key}>${s.key}`), blockerId: blocker.issueId, blockedId: s.issueId, ...(signal ? { signal } : {}) });
    }
  }
}

/** Keys in an order where every blocker comes before what it blocks (a cycle or unknown key keeps plan order). */
export function blockersFirst(subtasks: Array<Pick<PlannedSubtask, "key" | "dependsOn">>): string[] {
  const keys = new Set(subtasks.map((s) => s.key));
  const done = new Set<string>();
  const order: string[] = [];
  for (let progress = true; progress && order.length < subtasks.length; ) {
    progress = false;
    for (const s of subtasks) {
      if (done.has(s.key) || !s.dependsOn.every((d) => done.has(d) || !keys.has(d) || d === s.key)) continue;
      done.add(s.key);
      order.push(s.key);
      progress = true;
    }
  }
  return [...order, ...subtasks.map((s) => s.key).filter((k) => !done.has(k))];
}

/** The sub-issues `s` depends on, by identifier once created (by title before). */
function dependencyNames(parentTask: Task, s: PlannedSubtask): string[] {
  const all = parentTask.plan?.subtasks ?? [];
  return s.dependsOn.flatMap((k) => {
    const d = all.find((x) => x.key === k);
    return d ? [subtaskName(d)] : [];
  });
}

/** The parent's task once it has a plan (waiting briefly for a plan saved right after this job was queued). */
async function recordedPlan(deps: WorkerDeps, parentId: string): Promise<Task | null> {
  for (let i = 0; ; i++) {
    const task = await deps.tasks.get(parentId);
    if (task?.plan || i >= 20) return task;
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Linear refused (not an outage, not a rate limit): retrying the same requests cannot help.
function refused(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (isLinearRefusal(e) || isLinearRefusal(parseLinearError(e as Parameters<typeof parseLinearError>[0]))) return true;
  }
  return false;
}
