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

/** What a `needs-input` task waits for: a repository, a plan's approval, or triage's first question. */
export function waitingDetail(t: Task): string {
  if (t.repoQuestion) return repoQuestionLine(t.repoQuestion);
  if (t.plan?.status === "proposed") {
    const n = t.plan.subtasks.length;
    return `plan of ${n} sub-issue${n === 1 ? "" : "s"} awaits approval`;
  }
  const q = t.clarification?.open ? t.clarification.questions[0] : undefined;
  return q ? `asks: ${q}` : "";
}

/** The detail line under a state badge, as plain text (escaped by the caller). */
export function stateDetail(t: Task, now: number): string {
  const step = t.step?.replace(/^waiting: /, "") ?? "";
  switch (t.state) {
    case "queued":
      return step || "waiting for a worker";
    case "needs-input":
      return waitingDetail(t) || step;
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

/** A parent's sub-issues, as its state cell shows them. */
export interface TreeNote {
  /** "2 of 4 sub-issues merged", or "". */
  progress: string;
  /** Why the tree needs a person (a child failed, the tree job says so), or null. */
  needsYou: string | null;
}

/** Badge and detail for the state column; a parent's badge says "Needs you" when its tree does. */
export function stateCell(t: Task, now: number, tree?: TreeNote): string {
  const position = t.state === "queued" ? queuePosition(t.step) : null;
  const stuck = t.state === "managing" && Boolean(tree?.needsYou);
  const label = stuck ? "Needs you" : position !== null ? `${BADGE_LABEL.queued} · #${position}` : BADGE_LABEL[t.state];
  const dot = LIVE.has(t.state) ? '<span class="pulse" aria-hidden="true"></span>' : "";
  const own = stateDetail(t, now);
  const detail = tree ? [tree.progress, stuck ? tree.needsYou : "", stuck && /^needs you:/i.test(own) ? "" : own].filter(Boolean).join(" · ") : own;
  return (
    `<span class="badge s-${stuck ? "needs-you" : esc(t.state)}">${dot}${esc(label)}</span>` +
    (detail ? `<div class="detail" title="${esc(detail)}">${esc(detail)}</div>` : "") +
    turnInProgress(t, now)
  );
}
