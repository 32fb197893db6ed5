// Parents and their sub-issues on the dashboard: which children a parent has, how far they got,
// whether the tree needs a person, and the table order that puts each child under its parent.
import type { Task } from "../tasks/task.js";

/** How far a parent's sub-issues got. */
export interface SubIssueProgress {
  /** Sub-issues whose PR was merged (or whose own tree is done). */
  merged: number;
  /** Sub-issues in the plan, dropped ones left out (or the children known, without a plan). */
  total: number;
  /** Children that failed or were stopped: the tree waits for a person. */
  stuck: Task[];
  /** The whole tree's spend: the parent's own (manager) calls and every child's. */
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

const isStuck = (c: Task) => c.state === "failed" || c.state === "stopped";

/** "n of m" for a parent, or null for a task that is not one (or whose plan still awaits approval). */
export function subIssueProgress(parent: Task, children: readonly Task[]): SubIssueProgress | null {
  if (!isParent(parent) && children.length === 0) return null;
  if (parent.plan?.status === "proposed" && children.length === 0) return null;
  const live = liveChildren(parent, children);
  const planned = parent.plan?.subtasks.filter((s) => !s.dropped) ?? [];
  const merged = live.filter((c) => c.state === "merged" || c.state === "done").length;
  const total = Math.max(planned.length, live.length);
  const costUsd = children.reduce((n, c) => n + c.costUsd, parent.costUsd);
  return { merged, total, stuck: live.filter(isStuck), costUsd };
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
  const stuck = liveChildren(parent, children).filter(isStuck);
  if (stuck.length === 0) return null;
  const first = stuck[0] as Task;
  const more = stuck.length > 1 ? ` (and ${stuck.length - 1} more)` : "";
  return `sub-issue ${first.identifier} ${first.state}${first.error ? `: ${first.error}` : ""}${more}`;
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
