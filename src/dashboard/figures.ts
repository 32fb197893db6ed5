import { repoQuestionLine } from "../status/repo-elicitation.js";
import type { Task, Usage } from "../tasks/task.js";
import { childrenByParent, parentNeedsYou } from "./tree-rows.js";

/** Workforce-wide numbers shown at the top of the dashboard. */
export interface Figures {
  tasks: number;
  /** Agents working, running checks or revising right now. */
  active: number;
  queued: number;
  /** Tasks done: their PR was merged. */
  done: number;
  prsOpened: number;
  prsMerged: number;
  /** PRs closed without merging. */
  prsClosed: number;
  /** merged / (merged + closed); null until a PR was decided either way. */
  mergeRate: number | null;
  /** Average revisions after review, over tasks that have a PR. */
  revisionsPerPr: number | null;
  /** Median time from the label (task created) to the PR opening. */
  medianLabelToPrMs: number | null;
  /** All tokens spent, failed and abandoned work included, per merged PR. */
  tokensPerMergedPr: number | null;
  /** All spend, failed and abandoned work included, per merged PR: what a landed change costs. */
  costPerMergedPr: number | null;
  totalTokens: number;
  totalCostUsd: number;
  spendTodayUsd: number;
  dailyBudgetUsd: number | null;
  /** Tokens sub-issues received from others (brief, goal, dependency notes) against all input tokens. */
  stateTransfer: { tokens: number; inputTokens: number; share: number | null };
  /** The manager's own model calls: every triage, and each plan's planning. */
  manager: { tokens: number; costUsd: number };
}

/** Why a task is on the "needs you" list, in the order the list shows them. */
export type NeedsYouKind = "question" | "plan" | "failed" | "tree" | "review" | "budget";

/** One thing a person should look at. */
export interface NeedsYouItem {
  kind: NeedsYouKind;
  task: Task;
  /** What happened, in words a person can act on. */
  reason: string;
  /** Since when it has been waiting (ISO time). */
  since: string;
}

/** Input, output and cache tokens of a usage record, all counted. */
export function totalTokens(u: Usage): number {
  return u.input + u.output + u.cacheRead + u.cacheWrite;
}

/** Median of a list of numbers, or null for an empty list. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] as number;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] as number) + hi) / 2;
}

/** Input tokens as the model read them: fresh, from the cache and written to it. */
export function inputTokens(u: Usage): number {
  return u.input + u.cacheRead + u.cacheWrite;
}

/** State-transfer tokens (children's `transfer.tokens`) as a share of every task's input tokens. */
export function stateTransfer(tasks: readonly Task[]): Figures["stateTransfer"] {
  const transferred = tasks.reduce((n, t) => n + (t.transfer?.tokens ?? 0), 0);
  const input = tasks.reduce((n, t) => n + inputTokens(t.usage), 0);
  return { tokens: transferred, inputTokens: input, share: input === 0 ? null : transferred / input };
}

/**
 * The manager's tokens and cost: a parent's plan records its triage and planning calls together
 * (SplitPlan.manager); any other task's triage call is the manager's too. Both are already part
 * of the tasks' own usage and cost.
 */
export function managerSpend(tasks: readonly Task[]): Figures["manager"] {
  let tokens = 0;
  let costUsd = 0;
  for (const t of tasks) {
    const m = t.plan?.manager ?? t.triage;
    if (!m) continue;
    tokens += totalTokens(m.usage);
    costUsd += m.costUsd;
  }
  return { tokens, costUsd };
}

const hasPr = (t: Task) => t.prNumber !== null || t.prUrl !== null || t.prOpenedAt !== null;

/** Computes the workforce figures from task records and today's spend. */
export function computeFigures(
  tasks: readonly Task[],
  spend: { todayUsd: number; dailyBudgetUsd: number | undefined },
): Figures {
  const withPr = tasks.filter(hasPr);
  const merged = tasks.filter((t) => t.state === "merged");
  const closed = withPr.filter((t) => t.state === "closed");
  const decided = merged.length + closed.length;
  const tokens = tasks.reduce((n, t) => n + totalTokens(t.usage), 0);
  const cost = tasks.reduce((n, t) => n + t.costUsd, 0);
  const toPr = withPr
    .filter((t) => t.prOpenedAt !== null)
    .map((t) => Date.parse(t.prOpenedAt as string) - Date.parse(t.createdAt))
    .filter((ms) => Number.isFinite(ms) && ms >= 0);
  return {
    tasks: tasks.length,
    active: tasks.filter((t) => t.state === "working" || t.state === "checking" || t.state === "revising").length,
    queued: tasks.filter((t) => t.state === "queued").length,
    done: merged.length,
    prsOpened: withPr.length,
    prsMerged: merged.filter(hasPr).length,
    prsClosed: closed.length,
    mergeRate: decided === 0 ? null : merged.length / decided,
    revisionsPerPr: withPr.length === 0 ? null : withPr.reduce((n, t) => n + t.revisions, 0) / withPr.length,
    medianLabelToPrMs: median(toPr),
    tokensPerMergedPr: merged.length === 0 ? null : tokens / merged.length,
    costPerMergedPr: merged.length === 0 ? null : cost / merged.length,
    totalTokens: tokens,
    totalCostUsd: cost,
    spendTodayUsd: spend.todayUsd,
    dailyBudgetUsd: spend.dailyBudgetUsd ?? null,
    stateTransfer: stateTransfer(tasks),
    manager: managerSpend(tasks),
  };
}

const BUDGET_ERROR = /AGENT_(DAILY_)?BUDGET_USD/;

/** Whether an agent is held back by a spend limit (per-task or daily). */
export function isBudgetStop(t: Task): boolean {
  if (t.state === "merged" || t.state === "closed") return false;
  return (t.error !== null && BUDGET_ERROR.test(t.error)) || (t.step !== null && /budget/i.test(t.step));
}

// An agent waiting for an answer is blocked on a person alone, so it comes first.
const KIND_ORDER: Record<NeedsYouKind, number> = { question: 0, plan: 1, failed: 2, tree: 3, review: 4, budget: 5 };

/** Why a `needs-input` task waits: which repository, a clarification, a plan to approve. */
function waitingItem(t: Task): NeedsYouItem {
  if (t.repoQuestion) return { kind: "question", task: t, reason: repoQuestionLine(t.repoQuestion), since: t.repoQuestion.askedAt };
  if (t.plan?.status === "proposed") {
    const n = t.plan.subtasks.length;
    const where = t.session ? "in the agent session" : "to the plan comment";
    return { kind: "plan", task: t, reason: `A plan of ${n} sub-issue${n === 1 ? "" : "s"} awaits approval: reply ${where}.`, since: t.plan.proposedAt };
  }
  const c = t.clarification;
  if (c?.open && c.questions.length) {
    const more = c.questions.length > 1 ? ` (and ${c.questions.length - 1} more)` : "";
    return { kind: "question", task: t, reason: `Triage asks: ${c.questions[0]}${more}`, since: c.askedAt };
  }
  return { kind: "question", task: t, reason: "The agent waits for an answer in the Linear agent session.", since: t.updatedAt };
}

function itemFor(t: Task, children: readonly Task[]): NeedsYouItem | null {
  if (t.state === "needs-input") return waitingItem(t);
  if (t.question && t.state === "stopped") return { kind: "question", task: t, reason: `The agent asks: ${t.question}`, since: t.finishedAt ?? t.updatedAt };
  if (t.state === "failed") return { kind: "failed", task: t, reason: t.error ?? "failed without a recorded reason", since: t.finishedAt ?? t.updatedAt };
  const tree = parentNeedsYou(t, children);
  if (tree) return { kind: "tree", task: t, reason: tree.charAt(0).toUpperCase() + tree.slice(1), since: t.updatedAt };
  if (isBudgetStop(t)) {
    const reason = t.error !== null && BUDGET_ERROR.test(t.error) ? t.error : (t.step ?? "held at a budget");
    return { kind: "budget", task: t, reason, since: t.finishedAt ?? t.updatedAt };
  }
  if (t.state !== "pr-open") return null;
  const pr = t.prNumber !== null ? `PR #${t.prNumber}` : "The pull request";
  const draft = t.step?.includes("draft") || t.checks?.passed === false;
  return { kind: "review", task: t, reason: `${pr} awaits review${draft ? " (draft: checks fail)" : ""}`, since: t.finishedAt ?? t.prOpenedAt ?? t.updatedAt };
}

/**
 * What needs a person, most pressing first: questions (a clarification, which repository), plans
 * awaiting approval, failed tasks (newest failure first, as older ones were likely seen already),
 * parents whose sub-issues need a person, then PRs waiting for review (longest wait first), then
 * agents held at a budget (longest first). Each task appears once.
 */
export function needsYou(tasks: readonly Task[]): NeedsYouItem[] {
  const kids = childrenByParent(tasks);
  const items = tasks.map((t) => itemFor(t, kids.get(t.issueId) ?? [])).filter((i): i is NeedsYouItem => i !== null);
  const newestFirst = new Set<NeedsYouKind>(["failed", "tree"]);
  return items.sort((a, b) => {
    const byKind = KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
    if (byKind !== 0) return byKind;
    const bySince = Date.parse(a.since) - Date.parse(b.since);
    return newestFirst.has(a.kind) ? -bySince : bySince;
  });
}
