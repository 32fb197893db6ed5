// Parents and their sub-issues on the dashboard: which children a parent has, how far they got,
// whether the tree needs a person, and the table order that puts each child under its parent.
//
// A child's phase is the roll-up's (src/status/rollup.ts childPhase, FINISHED, ATTENTION), so the
// dashboard and the parent's roll-up comment agree on what finished and what needs a person, and
// on the tree's total cost (treeTotals). Differences: the dashboard reads task records only, so a
// sub-issue a human completed in Linear without a merged PR (the roll-up's "completed") shows as
// unfinished here (the parent still turns done, as the tick sees it); and its "n of m merged"
// leaves dropped sub-issues out of both numbers, where the roll-up counts them as finished.
import { ATTENTION, childPhase, FINISHED, type RollupChild, treeTotals } from "../status/rollup.js";
import type { PlannedSubtask, Task } from "../tasks/task.js";

/** How far a parent's sub-issues got. */
export interface SubIssueProgress {
  /** Sub-issues finished as the roll-up counts them (merged, or their own tree done), dropped ones left out. */
  merged: number;
  /** Sub-issues in the plan, dropped ones left out (or the children known, without a plan). */
  total: number;
  /** Children that need a person, as the roll-up's ATTENTION: failed, stopped, or their PR closed without merging. */
  stuck: Task[];
  /** The whole tree's spend, the roll-up's total (treeTotals): the manager's calls and every child's. */
  costUsd: number;
}

/** Children by their parent's issue id. */
export function childrenByParent(tasks: readonly Task[]): Map<string, Task[]> {
  const map = new Map<string, Task[]>();
  for (const t of tasks) {
    const id = t.parent?.issueId;
    if (!id) continue;
    const list = map.get(id) ?? [];
    list.push(t);
    map.set(id, list);
  }
  return map;
}

const isParent = (t: Task) => Boolean(t.plan) || t.state === "managing" || t.state === "done";

/** The children a human did not cancel or take out of the plan in Linear: only they count. */
export function liveChildren(parent: Task, children: readonly Task[]): Task[] {
  const dropped = new Set((parent.plan?.subtasks ?? []).filter((s) => s.dropped).map((s) => s.key));
  return children.filter((c) => !dropped.has(c.parent?.key ?? ""));
}

/** Each child with its plan entry (a stand-in for one the plan does not list yet) and its roll-up phase. */
export function rollupChildren(parent: Task, children: readonly Task[]): RollupChild[] {
  const subs = new Map((parent.plan?.subtasks ?? []).map((s) => [s.key, s]));
  return children.map((task) => {
    const key = task.parent?.key ?? task.issueId;
    const sub: PlannedSubtask = subs.get(key) ?? { key, title: task.title, brief: "", criteria: [], owns: [], dependsOn: [], issueId: task.issueId, identifier: task.identifier };
    return { sub, task, phase: childPhase(sub, task) };
  });
}

const needsPerson = (c: RollupChild) => ATTENTION.has(c.phase);

/** "n of m" for a parent, or null for a task that is not one (or whose plan still awaits approval). */
export function subIssueProgress(parent: Task, children: readonly Task[]): SubIssueProgress | null {
  if (!isParent(parent) && children.length === 0) return null;
  if (parent.plan?.status === "proposed" && children.length === 0) return null;
  const live = rollupChildren(parent, liveChildren(parent, children));
  const planned = parent.plan?.subtasks.filter((s) => !s.dropped) ?? [];
  const merged = live.filter((c) => FINISHED.has(c.phase)).length;
  const total = Math.max(planned.length, live.length);
  const costUsd = treeTotals(parent, rollupChildren(parent, children)).spentUsd;
  return { merged, total, stuck: live.filter(needsPerson).map((c) => c.task as Task), costUsd };
}

/** "2 of 4 sub-issues merged", or "" when there is nothing to count yet. */
export function progressLine(p: SubIssueProgress | null): string {
  if (!p || p.total === 0) return "";
  return `${p.merged} of ${p.total} sub-issue${p.total === 1 ? "" : "s"} merged`;
}

// The tree job (H5) says so in the parent's step: "needs you: ENG-12 failed …".
const NEEDS_YOU_STEP = /^needs you:/i;

/** Why a parent needs a person (its step says so, or a child failed or was stopped), or null. */
export function parentNeedsYou(parent: Task, children: readonly Task[]): string | null {
  if (parent.state !== "managing" && parent.state !== "done" && !parent.plan) return null;
  if (parent.step && NEEDS_YOU_STEP.test(parent.step)) return parent.step.replace(NEEDS_YOU_STEP, "").trim() || "the tree waits for a person";
  if (parent.state === "done") return null;
  const stuck = rollupChildren(parent, liveChildren(parent, children)).filter(needsPerson);
  if (stuck.length === 0) return null;
  const first = stuck[0]?.task as Task;
  const more = stuck.length > 1 ? ` (and ${stuck.length - 1} more)` : "";
  // The tick's words for it (jobs/tree/tick.ts parentStep).
  const what = first.state === "closed" ? "closed without merging" : first.state;
  return `sub-issue ${first.identifier} ${what}${first.error ? `: ${first.error}` : ""}${more}`;
}

/**
 * The table's order: each child right under its parent (in plan order when there is a plan),
 * everything else as given. A child whose parent is filtered out keeps its own place.
 */
export function treeOrder(shown: readonly Task[]): Task[] {
  const present = new Set(shown.map((t) => t.issueId));
  const kids = childrenByParent(shown);
  const out: Task[] = [];
  for (const t of shown) {
    if (t.parent && present.has(t.parent.issueId)) continue;
    out.push(t);
    const children = kids.get(t.issueId);
    if (!children) continue;
    const order = new Map((t.plan?.subtasks ?? []).map((s, i) => [s.key, i]));
    const rank = (c: Task) => order.get(c.parent?.key ?? "") ?? order.size;
    out.push(...[...children].sort((a, b) => rank(a) - rank(b)));
  }
  return out;
}
