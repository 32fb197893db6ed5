import type { Task, TaskState } from "../tasks/task.js";
import { turnInProgress } from "./agent-activity.js";
import { repoQuestionLine } from "../status/repo-elicitation.js";
import { between, duration, esc } from "./html.js";

/** Short badge labels; the table is narrower than a Linear comment. */
export const BADGE_LABEL: Record<TaskState, string> = {
  queued: "Queued",
  "needs-input": "Needs input",
  managing: "Managing",
  done: "Done",
  working: "Working",
  checking: "Checks",
  "pr-open": "Awaiting review",
  revising: "Revising",
  merged: "Merged",
  closed: "Closed",
  failed: "Failed",
  stopped: "Stopped",
};

const LIVE: ReadonlySet<TaskState> = new Set<TaskState>(["working", "checking", "revising"]);

/** Where a queued task stands in its repository's line, when the waiting reason says so. */
export function queuePosition(step: string | null): number | null {
  const m = step ? /position (\d+) in line/.exec(step) : null;
  return m ? Number(m[1]) : null;
}

function checksNote(t: Task): string {
  if (!t.checks) return "";
  return t.checks.passed ? "checks pass" : "checks fail";
}

/** The detail line under a state badge, as plain text (escaped by the caller). */
export function stateDetail(t: Task, now: number): string {
  const step = t.step?.replace(/^waiting: /, "") ?? "";
  switch (t.state) {
    case "queued":
      return step || "waiting for a worker";
    case "needs-input":
      return t.repoQuestion ? repoQuestionLine(t.repoQuestion) : step;
    case "working":
    case "revising": {
      const turn = t.turns > 0 && !/^turn \d/.test(step) ? `turn ${t.turns}` : "";
      return [turn, step].filter(Boolean).join(" · ");
    }
    case "checking":
      return step || "running the repository's checks";
    case "pr-open": {
      const waited = duration(between(t.finishedAt ?? t.prOpenedAt, null, now));
      return [`waiting ${waited}`, step, checksNote(t), t.error ?? ""].filter(Boolean).join(" · ");
    }
    case "managing":
    case "done":
      return step;
    case "merged":
      return t.revisions > 0 ? `after ${t.revisions} revision${t.revisions === 1 ? "" : "s"}` : "";
    case "closed":
      return "PR closed without merging";
    case "failed":
    case "stopped":
      return t.error ?? "";
  }
}

/** Badge and detail for the state column. */
export function stateCell(t: Task, now: number): string {
  const position = t.state === "queued" ? queuePosition(t.step) : null;
  const label = position !== null ? `${BADGE_LABEL.queued} · #${position}` : BADGE_LABEL[t.state];
  const dot = LIVE.has(t.state) ? '<span class="pulse" aria-hidden="true"></span>' : "";
  const detail = stateDetail(t, now);
  return (
    `<span class="badge s-${esc(t.state)}">${dot}${esc(label)}</span>` +
    (detail ? `<div class="detail" title="${esc(detail)}">${esc(detail)}</div>` : "") +
    turnInProgress(t, now)
  );
}
