import { formatUsd } from "../agent/pricing.js";
import { withoutReplies } from "../agent/prompts.js";
import type { ActivityContent, PlanStep } from "../linear/agent-sessions.js";
import type { Task } from "../tasks/task.js";
import { usageLine } from "./format.js";
import { renderClarificationElicitation, renderTriageThought, TRIAGED_STEP } from "./clarify-text.js";
import { renderPlanProposal } from "./plan-text.js";
import { renderRepoElicitation } from "./repo-elicitation.js";
import { ATTENTION, FINISHED, type RollupChild, treeTotals } from "./rollup.js";

/** One activity the session should show, under the key that makes it post once. */
export interface KeyedActivity {
  key: string;
  content: ActivityContent;
  ephemeral?: boolean;
  /** A `select` elicitation's signal and its options. */
  signal?: "select";
  signalMetadata?: Record<string, unknown>;
}

/** Everything the Linear agent session shows for a task, rendered from the record alone. */
export interface SessionView {
  plan: PlanStep[];
  /** What the agent is doing now (a coalesced `thought`); null once the run ended. */
  thought: KeyedActivity | null;
  /** The checks starting or their result (`action`). */
  checks: KeyedActivity | null;
  /** The branch pushed (`action`). */
  push: KeyedActivity | null;
  /** The pull request, for the session's external URLs. */
  pr: { label: string; url: string } | null;
  /** How the run ended: `response`, `elicitation` (a question, or which repository) or `error`; null while it runs. */
  ended: KeyedActivity | null;
}

const STEPS = ["Route to a repository", "Prepare the workspace", "Implement", "Run checks", "Open the pull request"] as const;
const ENDED = new Set<Task["state"]>(["pr-open", "merged", "closed", "failed", "stopped", "done"]);

/**
 * Renders the session from the task record, as the progress comment and PR body are. A parent
 * whose sub-issues run (see `isManagedParent`) shows them instead of the agent's steps: pass its
 * `children` (plan entries with their tasks) when read; without them it renders from the plan and
 * the step the tree's tick wrote.
 */
export function renderSession(task: Task, children?: RollupChild[]): SessionView {
  const ended = endedActivity(task, children);
  return {
    plan: renderPlan(task, children),
    thought: ended ? null : thoughtOf(task),
    checks: checksOf(task),
    push: pushOf(task),
    pr: task.prUrl ? { label: "Pull request", url: task.prUrl } : null,
    ended,
  };
}

/** The plan: route → workspace → implement → checks → PR, each with its status (a parent's: route → plan → sub-issues). */
export function renderPlan(task: Task, children?: RollupChild[]): PlanStep[] {
  if (isManagedParent(task)) return parentPlan(task, children);
  const content = [...STEPS].map(String);
  if (task.repo) content[0] = `Route to a repository: ${task.repo.owner}/${task.repo.name}`;
  if (task.state === "needs-input" && task.repoQuestion) content[0] = "Route to a repository: waiting for your choice";
  if (task.state === "needs-input" && task.clarification?.open) content[2] = "Implement: waiting for your answers";
  if (task.state === "needs-input" && task.plan?.status === "proposed") content[2] = "Implement: waiting for your approval of the plan";
  if (task.state === "revising") content[2] = "Revise for the feedback";
  if (task.checks) content[3] = `Run checks: \`${task.checks.command}\` ${task.checks.summary}`;
  if (task.prUrl) content[4] = `Open the pull request: #${task.prNumber}`;
  if (task.state === "failed" || task.state === "stopped") return halted(task, content);
  const current = phaseOf(task);
  return content.map((c, i) => ({ content: c, status: i < current ? "completed" : i === current ? "inProgress" : "pending" }));
}

// Index of the step in progress (5 = all done, -1 = not started).
function phaseOf(task: Task): number {
  if (task.state === "queued") return -1;
  if (task.state === "needs-input") return task.repoQuestion ? 0 : 2;
  if (ENDED.has(task.state)) return 5;
  if (task.state === "checking") return 3;
  if (task.state === "revising") return 2;
  if (task.step === "reading the issue") return 0;
  if (task.step === "preparing the workspace") return 1;
  if (task.landed && task.landed.jobId === task.jobId && !task.landed.revision) return 4;
  return 2;
}

// A run that failed or stopped: what was done stays done, the rest is cancelled. The last plan
// shown says how far it got.
function halted(task: Task, content: string[]): PlanStep[] {
  let before: PlanStep[] = [];
  try {
    before = task.sessionShown?.plan ? (JSON.parse(task.sessionShown.plan) as PlanStep[]) : [];
  } catch {
    before = [];
  }
  return content.map((c, i) => ({ content: c, status: before[i]?.status === "completed" ? "completed" : "canceled" }));
}

function thoughtOf(task: Task): KeyedActivity | null {
  // Triage's verdict, rationale and criteria, once per verdict (see jobs/triage-gate).
  if (task.triage && task.step === TRIAGED_STEP) return { key: `triage:${task.triage.round}:${task.triage.at}`, content: { type: "thought", body: renderTriageThought(task.triage) } };
  // While checks run, their action says so.
  if (!task.step || task.state === "checking") return null;
  const body = task.state === "queued" ? `Queued: ${task.step.replace(/^waiting: /, "")}.` : `${capital(task.step)}.`;
  // Turn-by-turn chatter replaces itself (ephemeral); waiting reasons and phases stay in the log.
  return { key: `thought:${task.attempts}:${task.step}`, content: { type: "thought", body }, ephemeral: task.step.startsWith("turn ") };
}

function checksOf(task: Task): KeyedActivity | null {
  if (task.state === "checking" && task.step) {
    const command = /`(.+)`/.exec(task.step)?.[1] ?? task.step;
    return { key: `checks:run:${task.attempts}:${task.turns}`, content: { type: "action", action: "Running checks", parameter: command } };
  }
  if (!task.checks) return null;
  const c = task.checks;
  return { key: `checks:done:${task.attempts}:${task.turns}:${c.summary}`, content: { type: "action", action: "Ran checks", parameter: c.command, result: c.summary } };
}

function pushOf(task: Task): KeyedActivity | null {
  const l = task.landed;
  if (!l || l.pushed === false || !task.branch) return null;
  return { key: `push:${l.sha}`, content: { type: "action", action: "Pushed", parameter: task.branch, result: l.sha.slice(0, 7) } };
}

/** The one closing activity of a run, keyed by how and when it ended so it posts once. */
function endedActivity(task: Task, children?: RollupChild[]): KeyedActivity | null {
  if (task.state === "needs-input" && task.repoQuestion) {
    const q = renderRepoElicitation(task.repoQuestion, task.identifier);
    return { key: `ask-repo:${task.repoQuestion.key}`, content: { type: "elicitation", body: q.body }, signal: "select", signalMetadata: q.signalMetadata };
  }
  // Triage's questions, and a proposed plan, each posted once per question set or proposal.
  if (task.state === "needs-input" && task.clarification?.open) {
    return { key: `clarify:${task.clarification.askedAt}`, content: { type: "elicitation", body: renderClarificationElicitation(task.clarification, task.identifier) } };
  }
  if (task.state === "needs-input" && task.plan?.status === "proposed") {
    return { key: `plan:${task.plan.proposedAt}:${task.plan.revisions}`, content: { type: "elicitation", body: renderPlanProposal(task.plan) } };
  }
  if (!ENDED.has(task.state) || !task.finishedAt) return null;
  const key = `ended:${task.state}:${task.finishedAt}`;
  if (task.state === "failed") return { key, content: { type: "error", body: `The agent could not finish: ${task.error ?? "unknown error"}\n\nReply here to try again.` } };
  if (task.state === "done") return { key, content: { type: "response", body: treeDoneBody(task, children) } };
  if (task.state === "stopped" && isManagedParent(task)) {
    // stopTree's error already says which sub-issues stopped with it and how to resume.
    const why = task.error ?? "";
    return { key, content: { type: "response", body: /^stopped\b/i.test(why) ? why : `Stopped. ${why}`.trim() } };
  }
  if (task.state === "stopped") {
    if (task.question) return { key, content: { type: "elicitation", body: task.question } };
    return { key, content: { type: "response", body: `Stopped. ${task.error ?? ""}`.trim() + "\nNothing was pushed after the stop; reply here or delegate the issue again to continue." } };
  }
  return { key, content: { type: "response", body: doneBody(task) } };
}

function doneBody(task: Task): string {
  const pr = task.prUrl ? `[PR #${task.prNumber}](${task.prUrl})` : "the pull request";
  if (task.state === "merged") return `${pr} was merged. Total cost: ${usageLine(task)}.`;
  if (task.state === "closed") return `${pr} was closed without merging. Total cost: ${usageLine(task)}.`;
  const revised = Boolean(task.landed?.revision) && task.revisions > 0;
  const where = task.repo ? ` in \`${task.repo.owner}/${task.repo.name}\`` : "";
  const summary = withoutReplies(task.handoff ?? "").trim().slice(0, 3000) || "_The agent did not write a summary._";
  const checks = task.checks ? `\`${task.checks.command}\` ${task.checks.summary}` : "no checks ran";
  return [
    revised ? `Revised ${pr}${where} for your feedback.` : `Opened ${pr}${where}.`,
    "",
    summary,
    "",
    `**Checks:** ${checks}`,
    `**Cost:** ${usageLine(task)}`,
    ...(task.error ? ["", `**Note:** ${task.error}`] : []),
  ].join("\n");
}

/**
 * A parent whose work is its sub-issues: its plan was approved (creating or created) and it
 * manages them, finished, or was stopped with them. A plan still awaiting approval is not one yet.
 */
export function isManagedParent(task: Task): boolean {
  const status = task.plan?.status;
  if (status !== "creating" && status !== "created") return false;
  return task.state === "managing" || task.state === "done" || task.state === "stopped";
}

const NEEDS_YOU = /^needs you:\s*/i;

// A parent's plan: routed, sub-issues planned and created, then "Sub-issues: n of m finished" in
// progress until the tree is done. A stopped parent keeps what completed and cancels the rest.
function parentPlan(task: Task, children?: RollupChild[]): PlanStep[] {
  const plan = task.plan as NonNullable<Task["plan"]>;
  const n = plan.subtasks.length;
  const content = [
    task.repo ? `Route to a repository: ${task.repo.owner}/${task.repo.name}` : "Route to a repository",
    plan.status === "created" ? `Plan the sub-issues: ${n} created in Linear` : `Create the ${n} planned sub-issues in Linear`,
    task.state === "done" ? `Sub-issues: all ${children?.length ?? n} finished` : `Sub-issues: ${subIssuesProgress(task, children)}`,
  ];
  if (task.state === "stopped") return halted(task, content);
  const current = task.state === "done" ? 3 : plan.status === "created" ? 2 : 1;
  return content.map((c, i) => ({ content: c, status: i < current ? "completed" : i === current ? "inProgress" : "pending" }));
}

// "1 of 3 finished; running ENG-3", counted as the roll-up counts (rollup.ts FINISHED). The tick's
// step is preferred: it also knows which sub-issues a human completed in Linear.
function subIssuesProgress(task: Task, children?: RollupChild[]): string {
  const step = task.step ?? "";
  if (/^sub-issues:\s*/i.test(step)) return step.replace(/^sub-issues:\s*/i, "");
  const subs = task.plan?.subtasks ?? [];
  const count = children
    ? `${children.filter((c) => FINISHED.has(c.phase)).length} of ${children.length} finished`
    : `${subs.filter((s) => s.dropped).length} of ${subs.length} finished`;
  if (NEEDS_YOU.test(step)) return `${count}; needs you: ${step.replace(NEEDS_YOU, "")}`;
  const attention = (children ?? []).filter((c) => ATTENTION.has(c.phase)).map((c) => `${childName(c)} ${c.phase}`);
  return attention.length > 0 ? `${count}; needs you: ${attention.join(", ")}` : count;
}

// "All 3 sub-issues finished: ENG-2 (PR #12), ENG-3 (PR #13), ENG-4 (dropped); total cost $1.20 …",
// with the roll-up's total (treeTotals: the manager's calls and every sub-issue's cost).
function treeDoneBody(task: Task, children?: RollupChild[]): string {
  const list = children ?? (task.plan?.subtasks ?? []).map((sub) => ({ sub, task: null, phase: sub.dropped ? "dropped" : "merged" }) as RollupChild);
  const each = list.map((c) => `${childName(c)} (${childOutcome(c)})`);
  const totals = treeTotals(task, list);
  const cost = children
    ? `total cost ${formatUsd(totals.spentUsd)} (manager ${formatUsd(totals.managerUsd)}, sub-issues ${formatUsd(totals.childrenUsd)})`
    : `manager cost ${formatUsd(totals.managerUsd)}; the roll-up comment lists each sub-issue's cost`;
  const n = list.length;
  return `All ${n} sub-issue${n === 1 ? "" : "s"} finished: ${each.join(", ")}; ${cost}.`;
}

// The parent is done, so every sub-issue finished: one not merged nor dropped was completed by
// hand in Linear (the tick knew; the task record does not say).
function childOutcome(c: RollupChild): string {
  if (c.phase === "dropped") return `dropped: ${c.sub.dropped === "removed" ? "removed" : "cancelled"} in Linear`;
  if (c.phase !== "merged") return "completed in Linear";
  return c.task?.prUrl ? `[PR #${c.task.prNumber}](${c.task.prUrl})` : "merged";
}

const childName = (c: RollupChild) => c.sub.identifier ?? c.task?.identifier ?? c.sub.key;

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
