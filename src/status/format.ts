import { formatUsd } from "../agent/pricing.js";
import type { Task, TaskState } from "../tasks/task.js";

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
