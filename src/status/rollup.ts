import { formatUsd } from "../agent/pricing.js";
import type { PlannedSubtask, Task, Usage } from "../tasks/task.js";

// The parent's roll-up: one Linear comment, rendered from the parent's plan and its children's
// task records (nothing else), so a re-render after a crash says the same thing. No timestamp in
// the text: the tick edits the comment only when the text changed.

/** Where a sub-issue stands, as the roll-up and the tick see it. */
export type ChildPhase =
  | "waiting"
  /** Added by a human without the agent label: theirs; the manager never starts it. */
  | "human"
  | "running"
  | "needs-input"
  | "in-review"
  | "merged"
  /** Completed in Linear by a human without a merged agent PR. */
  | "completed"
  | "dropped"
  | "failed"
  | "stopped"
  | "closed";

/** One sub-issue of the tree with its task (null before its first job ran) and its phase. */
export interface RollupChild {
  sub: PlannedSubtask;
  task: Task | null;
  phase: ChildPhase;
}

/** Phases after which a sub-issue no longer blocks anything and the parent may finish. */
export const FINISHED: ReadonlySet<ChildPhase> = new Set(["merged", "completed", "dropped"]);
/** Phases that need a human (the parent goes under "Needs you"). */
export const ATTENTION: ReadonlySet<ChildPhase> = new Set(["failed", "stopped", "closed"]);

/**
 * The phase of a sub-issue from its plan entry, its task, whether Linear shows it completed, and
 * whether it is a human's own (added without the agent label; it counts only once it ran).
 */
export function childPhase(sub: PlannedSubtask, task: Task | null, completedInLinear = false, human = false): ChildPhase {
  if (sub.dropped) return "dropped";
  if (task?.state === "merged" || task?.state === "done") return "merged";
  if (completedInLinear) return "completed";
  if (human && !task?.startedAt) return "human";
  if (!task || (task.state === "queued" && !task.startedAt)) return "waiting";
  switch (task.state) {
    case "pr-open":
      return "in-review";
    case "needs-input":
      return "needs-input";
    case "failed":
    case "stopped":
    case "closed":
      return task.state;
    default:
      return "running";
  }
}

/** Every token the model read: fresh input, cache writes and cache reads. */
export function inputTokens(u: Usage): number {
  return u.input + u.cacheWrite + u.cacheRead;
}

/** What the tree spent (manager and children) against its budget, and its state-transfer share. */
export interface TreeTotals {
  managerUsd: number;
  childrenUsd: number;
  spentUsd: number;
  budgetUsd: number;
  transferTokens: number;
  inputTokens: number;
  /** transferTokens ÷ inputTokens (0 when nothing was read yet). */
  transferShare: number;
}

/** Sums the tree's spend and tokens from the parent's plan and the children's tasks. */
export function treeTotals(parent: Task, children: RollupChild[]): TreeTotals {
  const plan = parent.plan;
  const managerUsd = plan?.manager.costUsd ?? 0;
  const tasks = children.map((c) => c.task).filter((t): t is Task => t !== null);
  const childrenUsd = tasks.reduce((sum, t) => sum + t.costUsd, 0);
  const transferTokens = tasks.reduce((sum, t) => sum + (t.transfer?.tokens ?? 0), 0);
  const input = (plan ? inputTokens(plan.manager.usage) : 0) + tasks.reduce((sum, t) => sum + inputTokens(t.usage), 0);
  return {
    managerUsd,
    childrenUsd,
    spentUsd: managerUsd + childrenUsd,
    budgetUsd: plan?.budgetUsd ?? 0,
    transferTokens,
    inputTokens: input,
    transferShare: input > 0 ? transferTokens / input : 0,
  };
}

/**
 * The blockers of a waiting sub-issue that a human completed in Linear without a merged PR: their
 * code is not on the base branch, so they still block it, and only a human can resolve that.
 */
export function strandedBy(child: RollupChild, all: RollupChild[]): RollupChild[] {
  if (child.phase !== "waiting") return [];
  return child.sub.dependsOn.map((key) => all.find((c) => c.sub.key === key)).filter((c): c is RollupChild => c?.phase === "completed");
}

/** Why a stranded sub-issue needs a human, e.g. `ENG-5 waits on ENG-3, completed in Linear without a merged PR`. */
export function strandedText(child: RollupChild, blockers: RollupChild[]): string {
  return `${name(child)} waits on ${blockers.map(name).join(", ")}, completed in Linear without a merged PR`;
}

const PHASE_TEXT: Record<ChildPhase, string> = {
  waiting: "waiting",
  human: "human: added without the agent label, a person works on it",
  running: "working",
  "needs-input": "waiting for your answer",
  "in-review": "pull request in review",
  merged: "merged",
  completed: "completed in Linear",
  dropped: "dropped",
  failed: "failed",
  stopped: "stopped",
  closed: "pull request closed without merging",
};

/** The roll-up comment's markdown (checklist, totals, state transfer, budget, what needs a human). */
export function renderRollup(parent: Task, children: RollupChild[]): string {
  const totals = treeTotals(parent, children);
  const finished = children.filter((c) => FINISHED.has(c.phase)).length;
  const lines = [`🗂️ **Sub-issues of ${parent.identifier}** — ${finished} of ${children.length} finished`, ""];
  for (const child of children) lines.push(childLine(child, children, Boolean(parent.plan?.budgetStoppedAt)));
  lines.push("", `**Total cost:** ${formatUsd(totals.spentUsd)} (manager ${formatUsd(totals.managerUsd)}, sub-issues ${formatUsd(totals.childrenUsd)})`);
  if (totals.budgetUsd > 0) lines.push(`**Tree budget:** ${formatUsd(totals.spentUsd)} of ${formatUsd(totals.budgetUsd)} used`);
  lines.push(transferLine(children, totals));
  if (parent.plan?.budgetStoppedAt) {
    lines.push("", `⛔ **Tree budget reached:** no new sub-issue starts. Raise AGENT_TREE_BUDGET_USD (or finish the remaining sub-issues by hand).`);
  }
  const attention = children.filter((c) => ATTENTION.has(c.phase));
  const stranded = children.map((c) => ({ c, by: strandedBy(c, children) })).filter((x) => x.by.length > 0);
  if (attention.length + stranded.length > 0) {
    lines.push("", "❗ **Needs you:**");
    for (const c of attention) lines.push(`- ${name(c)} ${PHASE_TEXT[c.phase]}${c.task?.error ? `: ${oneLine(c.task.error)}` : ""}`);
    for (const { c, by } of stranded) lines.push(`- ${strandedText(c, by)}: open and merge that work, or cancel the blocker in Linear so it no longer blocks`);
  }
  if (parent.state === "done") lines.push("", "✅ Every sub-issue is finished.");
  if (parent.state === "stopped") lines.push("", `⏹️ **Stopped:** the manager starts no sub-issue. ${parent.error ? oneLine(parent.error) : ""}`.trimEnd());
  return lines.join("\n");
}

function childLine(child: RollupChild, all: RollupChild[], budgetStopped: boolean): string {
  const { sub, task, phase } = child;
  const box = FINISHED.has(phase) ? "[x]" : "[ ]";
  const title = phase === "dropped" ? `~~${name(child)} ${sub.title}~~` : `${name(child)} ${sub.title}`;
  const parts = [phase === "dropped" ? `dropped (${sub.dropped === "canceled" ? "cancelled" : "removed"} in Linear)` : PHASE_TEXT[phase]];
  if (phase === "waiting") {
    // A blocker completed in Linear without a merged PR still blocks (its code is not on the base branch).
    const open = sub.dependsOn
      .map((key) => all.find((c) => c.sub.key === key))
      .filter((c): c is RollupChild => c !== undefined && c.phase !== "merged" && c.phase !== "dropped");
    if (open.length > 0) parts[0] = `waiting for ${open.map(name).join(", ")}`;
    else parts[0] = budgetStopped ? "not started: the tree budget is reached" : "starting";
  }
  if (task?.prUrl) parts.push(`PR [#${task.prNumber}](${task.prUrl})`);
  if (task?.checks) parts.push(`checks ${task.checks.passed ? "passed" : "failed"}`);
  if (task && task.costUsd > 0) parts.push(formatUsd(task.costUsd));
  return `- ${box} ${title} — ${parts.join(" · ")}`;
}

function transferLine(children: RollupChild[], totals: TreeTotals): string {
  const per = children.filter((c) => c.task?.transfer).map((c) => `${name(c)} ${(c.task?.transfer?.tokens ?? 0).toLocaleString("en-US")}`);
  const share = `${(totals.transferShare * 100).toFixed(1)}% of all ${totals.inputTokens.toLocaleString("en-US")} input tokens`;
  return `**State transfer** (tokens each sub-issue received from others, ~4 characters a token): ${per.length > 0 ? per.join(" · ") : "none yet"} — ${share}`;
}

function name(c: RollupChild): string {
  return c.sub.identifier ?? c.task?.identifier ?? c.sub.key;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}
