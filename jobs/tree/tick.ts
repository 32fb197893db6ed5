import { randomUUID } from "node:crypto";
import type { LinearClient } from "@linear/sdk";
import { formatUsd } from "../../src/agent/pricing.js";
import { upsertComment } from "../../src/linear/comments.js";
import { moveIssue, startIssue } from "../../src/linear/workflow.js";
import { publishStatus } from "../../src/status/publish.js";
import { ATTENTION, childPhase, FINISHED, type RollupChild, renderRollup, strandedBy, strandedText, treeTotals } from "../../src/status/rollup.js";
import { type Task, workspaceOf } from "../../src/tasks/task.js";
import type { WorkerDeps } from "../job-context.js";
import { implementFromTask, safeJobId } from "../queues.js";
import { applyLinear, type LinearTree, readTree } from "./tree-linear.js";
import { queueWaitingTriage } from "./triage-waiting.js";
import {
  completedInLinear,
  humanOwned,
  markParentStarted,
  parentStarted,
  patchPlan,
  recordCompleted,
  recordHuman,
  rollupChanged,
  rollupWritten,
  withTreeLock,
} from "./tree-store.js";

/** The prefix of a parent's `step` while it needs a human (a failed child, the tree budget). */
export const NEEDS_YOU = "needs you: ";

/**
 * Re-derives a parent's tree from the task records and acts on it: starts every sub-issue whose
 * blockers are all merged (or dropped), unless the tree budget is spent; moves the parent's Linear
 * issue to started with its first child and to completed when every child finished; sets the
 * parent `managing` / `done` and its step; edits the one roll-up comment. Idempotent: a retry or a
 * second tick finds the same records and does nothing twice. With `linear`, it first reads the
 * sub-issues from Linear (a human may have added, removed or cancelled some).
 */
export async function tick(deps: WorkerDeps, parentIssueId: string, signal?: AbortSignal, opts: { linear?: boolean } = {}): Promise<string> {
  return withTreeLock(deps, parentIssueId, async () => {
    let parent = await deps.tasks.get(parentIssueId);
    if (!parent?.plan || parent.plan.status !== "created") return "no created plan for this issue";
    const linear = deps.clients.linear(signal, workspaceOf(parent));
    // A stopped parent's roll-up still follows its children (stopped with it): render only.
    if (parent.state === "stopped") {
      const edited = await publishRollup(deps, linear, parent, await loadChildren(deps, parent));
      return `stopped; nothing started${edited ? "; roll-up edited" : ""}`;
    }
    if (parent.state !== "managing" && parent.state !== "done") return `the parent is ${parent.state}; nothing to manage`;
    let tree: LinearTree | null = null;
    if (opts.linear) {
      tree = await readTree(linear, parentIssueId);
      parent = await followLinear(deps, parent, tree);
    }
    const children = await loadChildren(deps, parent);
    parent = await enforceBudget(deps, parent, children);
    const ready = parent.plan?.budgetStoppedAt ? [] : children.filter((c) => c.phase === "waiting" && unblocked(c, children));
    for (const child of ready) await startChild(deps, parent, child);
    // Those still waiting are triaged meanwhile, so their start later skips it.
    const blocked = children.filter((c) => c.phase === "waiting" && c.task && !ready.includes(c) && !unblocked(c, children));
    await queueWaitingTriage(deps, parent, blocked.map((c) => c.task as Task));
    const readTreeOnce = async () => (tree ??= await readTree(linear, parentIssueId));
    // Started with its first child past waiting, whoever started it (the tick, or the child's own label).
    const begun = children.some(hasBegun);
    if (ready.length > 0 || (begun && !(await parentStarted(deps, parentIssueId)))) {
      const t = await readTreeOnce();
      await startIssue(linear, { issueId: parentIssueId, teamId: t.teamId, state: t.state });
      await markParentStarted(deps, parentIssueId);
    }
    const allFinished = children.length > 0 && children.every((c) => FINISHED.has(c.phase));
    // Linear first, the task last: a retry after a failed Linear call still finds the parent open.
    if (allFinished && parent.state !== "done") {
      const t = await readTreeOnce();
      await moveIssue(linear, { issueId: parentIssueId, teamId: t.teamId, currentStateId: t.state.id, want: { type: "completed" } });
    }
    const before = parent;
    parent = await saveParent(deps, parent, children, allFinished);
    const edited = await publishRollup(deps, linear, parent, children);
    if (parent.state !== before.state || parent.step !== before.step) {
      parent = await publishStatus(linear, { tasks: deps.tasks, task: parent, agentLabel: deps.config.agentLabel, publicUrl: deps.config.publicUrl });
    }
    const started = ready.map((c) => c.sub.identifier ?? c.sub.key);
    return `${parent.state}${started.length > 0 ? `; started ${started.join(", ")}` : ""}${edited ? "; roll-up edited" : ""}`;
  });
}

/** Each planned sub-issue with its task record and phase, in plan order. */
export async function loadChildren(deps: Pick<WorkerDeps, "tasks" | "redis" | "config">, parent: Task): Promise<RollupChild[]> {
  const completed = await completedInLinear(deps, parent.issueId);
  const human = await humanOwned(deps, parent.issueId);
  const subs = parent.plan?.subtasks ?? [];
  return Promise.all(
    subs.map(async (sub) => {
      const task = sub.issueId ? await deps.tasks.get(sub.issueId) : null;
      const id = sub.issueId ?? "";
      return { sub, task, phase: childPhase(sub, task, completed.has(id), human.has(id)) };
    }),
  );
}

// Phases in which a sub-issue has not begun: the parent's Linear issue is not started for them.
const NOT_BEGUN: ReadonlySet<string> = new Set(["waiting", "human", "dropped"]);

/** Past waiting; one that asked its triage question while it waited has not begun either. */
function hasBegun(c: RollupChild): boolean {
  return !NOT_BEGUN.has(c.phase) && !(c.phase === "needs-input" && !c.task?.startedAt);
}

/**
 * A sub-issue's blockers are all merged or dropped, as its job's gate (blockersOf) reads them: a
 * blocker a human completed in Linear without a merged PR left no code to build on, so it still blocks.
 */
function unblocked(child: RollupChild, all: RollupChild[]): boolean {
  return child.sub.dependsOn.every((key) => {
    const blocker = all.find((c) => c.sub.key === key);
    // A blocker no longer in the plan blocks nothing.
    return !blocker || blocker.phase === "merged" || blocker.phase === "dropped";
  });
}

/**
 * Folds what Linear shows into the plan. A sub-issue a human added with the agent label gets a task
 * linked to this parent (one moved here from another parent is re-pointed); one without it is the
 * human's own (no task, never started). A sub-issue taken out of the tree leaves it: its task's
 * parent is cleared, unless another parent took it meanwhile.
 */
async function followLinear(deps: WorkerDeps, parent: Task, tree: LinearTree): Promise<Task> {
  const plan = parent.plan;
  if (!plan) return parent;
  const changes = applyLinear(plan, tree, deps.config.agentLabel);
  await recordCompleted(deps, parent.issueId, changes.completed);
  await recordHuman(deps, parent.issueId, changes.human);
  for (const sub of changes.subtasks) {
    const child = tree.children.find((c) => c.id === sub.issueId);
    if (!child || !sub.key.startsWith("added-") || changes.human.includes(child.id)) continue;
    const task = (await deps.tasks.get(child.id)) ?? (await deps.tasks.ensure({ issueId: child.id, identifier: child.identifier, title: child.title, issueUrl: child.url }));
    if (task.parent?.issueId !== parent.issueId || task.parent.key !== sub.key) {
      await deps.tasks.update(child.id, () => ({ parent: { issueId: parent.issueId, identifier: parent.identifier, key: sub.key } }));
    }
  }
  for (const id of changes.removed) {
    await deps.tasks.update(id, (t) => (t.parent?.issueId === parent.issueId ? { parent: null } : {})).catch(() => undefined);
  }
  if (!changes.changed) return parent;
  deps.logger.info({ parent: parent.identifier, added: changes.added.map((c) => c.identifier) }, "the sub-issues changed in Linear; the plan follows");
  return patchPlan(deps, parent.issueId, (p) => {
    // Keep sub-issues another writer added meanwhile; Linear's view wins for the ones we know.
    const mine = new Map(changes.subtasks.map((s) => [s.key, s]));
    const merged = p.subtasks.map((s) => mine.get(s.key) ?? s);
    for (const s of changes.subtasks) if (!p.subtasks.some((x) => x.key === s.key)) merged.push(s);
    return { subtasks: merged };
  });
}

/** Records, once, that the tree's spend reached its budget: no new sub-issue starts after it. */
async function enforceBudget(deps: WorkerDeps, parent: Task, children: RollupChild[]): Promise<Task> {
  const totals = treeTotals(parent, children);
  if (parent.plan?.budgetStoppedAt || totals.budgetUsd <= 0 || totals.spentUsd < totals.budgetUsd) return parent;
  deps.logger.warn({ parent: parent.identifier, spentUsd: totals.spentUsd, budgetUsd: totals.budgetUsd }, "the tree budget is reached; no new sub-issue starts");
  return patchPlan(deps, parent.issueId, (p) => ({ budgetStoppedAt: p.budgetStoppedAt ?? new Date().toISOString() }));
}

/**
 * Starts a sub-issue: an implement job under a stable id (a retried or repeated tick adds nothing),
 * deduplicated with any other implement job of the issue (its label's own webhook, say), so one
 * run at a time. The job's blocker gate lets it through: its blockers are merged.
 */
async function startChild(deps: WorkerDeps, parent: Task, child: RollupChild): Promise<void> {
  const issueId = child.sub.issueId as string;
  const identifier = child.sub.identifier ?? child.task?.identifier ?? child.sub.key;
  if (!child.task) {
    await deps.tasks.ensure({ issueId, identifier, title: child.sub.title, issueUrl: null });
    await deps.tasks.update(issueId, (t) => (t.parent ? {} : { parent: { issueId: parent.issueId, identifier: parent.identifier, key: child.sub.key } }));
  }
  const now = new Date().toISOString();
  const data = implementFromTask(
    { issueId, identifier, title: child.sub.title, teamId: parent.teamId, issueUrl: child.task?.issueUrl ?? null, organizationId: parent.organizationId },
    { eventAt: parent.plan?.createdAt ?? now, source: { delivery: `tick-${parent.identifier}`, receivedAt: now, actor: null } },
  );
  await deps.queues.implement.add("implement", data, {
    jobId: safeJobId("subtask", issueId, "start"),
    deduplication: { id: safeJobId("implement", issueId), keepLastIfActive: true },
  });
  deps.logger.info({ parent: parent.identifier, child: identifier }, "sub-issue started: its blockers are merged");
}

/** The parent's state and step from its children: `done`, or `managing` with what it waits for. */
async function saveParent(deps: WorkerDeps, parent: Task, children: RollupChild[], allFinished: boolean): Promise<Task> {
  const step = allFinished ? null : parentStep(parent, children);
  const state = allFinished ? "done" : "managing";
  if (parent.state === state && parent.step === step) return parent;
  return deps.tasks.update(parent.issueId, (t) => {
    // A human stopped the parent meanwhile: leave it.
    if (t.state !== "managing" && t.state !== "done") return {};
    return { state, step, finishedAt: allFinished ? (t.finishedAt ?? new Date().toISOString()) : null };
  });
}

/** `needs you: ENG-3 failed, ENG-4 stopped`, the budget note, or how far the tree is. */
export function parentStep(parent: Task, children: RollupChild[]): string {
  const name = (c: RollupChild) => c.sub.identifier ?? c.task?.identifier ?? c.sub.key;
  const attention = children.filter((c) => ATTENTION.has(c.phase)).map((c) => `${name(c)} ${c.phase === "closed" ? "closed without merging" : c.phase}`);
  for (const c of children) {
    const by = strandedBy(c, children);
    if (by.length > 0) attention.push(strandedText(c, by));
  }
  if (attention.length > 0) return `${NEEDS_YOU}${attention.join(", ")}`;
  const finished = children.filter((c) => FINISHED.has(c.phase)).length;
  if (parent.plan?.budgetStoppedAt && children.some((c) => c.phase === "waiting")) {
    const totals = treeTotals(parent, children);
    return `${NEEDS_YOU}tree budget reached (${formatUsd(totals.spentUsd)} of ${formatUsd(totals.budgetUsd)}); no new sub-issue starts`;
  }
  const running = children.filter((c) => !FINISHED.has(c.phase) && hasBegun(c)).map(name);
  return `sub-issues: ${finished} of ${children.length} finished${running.length > 0 ? `; running ${running.join(", ")}` : ""}`;
}

/**
 * Edits the one roll-up comment when its text changed. Its id is chosen and saved on the plan
 * before the comment exists (create-or-edit under that id), so a retry never posts a second one.
 */
async function publishRollup(deps: WorkerDeps, linear: LinearClient, parent: Task, children: RollupChild[]): Promise<boolean> {
  const body = renderRollup(parent, children);
  if (!(await rollupChanged(deps, parent.issueId, body))) return false;
  let task = parent;
  if (!task.plan?.rollupCommentId) task = await patchPlan(deps, parent.issueId, (p) => ({ rollupCommentId: p.rollupCommentId ?? randomUUID() }));
  const commentId = task.plan?.rollupCommentId as string;
  await upsertComment(linear, { issueId: parent.issueId, commentId, body });
  await rollupWritten(deps, parent.issueId, body);
  return true;
}
