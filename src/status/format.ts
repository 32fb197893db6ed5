import { formatUsd } from "../agent/pricing.js";
import type { Task, TaskState, Triage } from "../tasks/task.js";

/** Short human labels for states, shared by every status surface. */
export const STATE_LABEL: Record<TaskState, string> = {
  queued: "Queued",
  "needs-input": "Waiting for your answer",
  managing: "Split into sub-issues, managing them",
  done: "Done: every sub-issue finished",
  working: "Working",
  checking: "Running checks",
  "pr-open": "Pull request open, awaiting review",
  revising: "Revising",
  merged: "Merged",
  closed: "Closed",
  failed: "Failed",
  stopped: "Stopped",
};

/** "12 turns · 45.1k in · 3.2k out · 120.4k cache read · 8.0k cache write · $0.42" */
export function usageLine(t: Pick<Task, "turns" | "usage" | "costUsd">): string {
  const k = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n));
  const u = t.usage;
  return [
    `${t.turns} turn${t.turns === 1 ? "" : "s"}`,
    `${k(u.input)} in`,
    `${k(u.output)} out`,
    `${k(u.cacheRead)} cache read`,
    `${k(u.cacheWrite)} cache write`,
    formatUsd(t.costUsd),
  ].join(" · ");
}

/** "Triage: **ready** (small) — rationale", on one line (the rationale's line breaks folded). */
export function triageLine(t: Pick<Triage, "verdict" | "size" | "rationale">): string {
  const why = t.rationale.replace(/\s+/g, " ").trim();
  return `Triage: **${t.verdict}** (${t.size})${why ? ` — ${why}` : ""}`;
}

/** The header's label: a `needs-input` task says what it waits for (a plan's approval or an answer). */
export function taskStateLabel(t: Pick<Task, "state" | "plan">): string {
  if (t.state === "needs-input" && t.plan?.status === "proposed") return "Plan awaiting your approval";
  return STATE_LABEL[t.state];
}
