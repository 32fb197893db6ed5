// What triage decided for a task, as a small marker under the title: the verdict, the
// criteria count, the rationale as a tooltip; and the state-transfer note of a sub-issue.
import type { Task } from "../tasks/task.js";
import { totalTokens } from "./figures.js";
import { esc, tokens, usd } from "./html.js";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** "ready · 3 criteria", "clarify · 2 questions", "split · 4 sub-issues"; "" when not triaged. */
export function triageLabel(t: Pick<Task, "triage" | "plan">): string {
  const tr = t.triage;
  if (!tr) return "";
  const parts: string[] = [tr.verdict];
  if (tr.verdict === "clarify" && tr.questions.length) parts.push(plural(tr.questions.length, "question"));
  else if (tr.verdict === "split" && t.plan) parts.push(plural(t.plan.subtasks.length, "sub-issue"));
  const n = tr.criteria.length;
  if (n) parts.push(`${n} criteri${n === 1 ? "on" : "a"}`);
  return parts.join(" · ");
}

/** The tooltip: size, rationale, what the call cost (already part of the task's tokens and cost). */
export function triageHint(t: Pick<Task, "triage">): string {
  const tr = t.triage;
  if (!tr) return "";
  const round = tr.round > 0 ? ", after the answers" : "";
  return `Triage (${tr.model}${round}): ${tr.size}. ${tr.rationale}\nIts ${tokens(totalTokens(tr.usage))} tokens and ${usd(tr.costUsd)} are part of this task's cost.`;
}

/** The marker under a title, or "" for a task triage never saw. */
export function triageMarker(t: Pick<Task, "triage" | "plan">): string {
  if (!t.triage) return "";
  return (
    `<span class="verdict v-${esc(t.triage.verdict)}" data-verdict="${esc(t.triage.verdict)}" title="${esc(triageHint(t))}">` +
    `${esc(triageLabel(t))}</span>`
  );
}

/** "part of ENG-10" on a sub-issue's row, with what it received from others as a tooltip. */
export function parentMarker(t: Pick<Task, "parent" | "transfer">): string {
  if (!t.parent) return "";
  const hint = t.transfer
    ? `state transfer: ${t.transfer.tokens} tokens received (brief ${t.transfer.brief}, dependency notes ${t.transfer.notes})`
    : `sub-issue ${t.parent.key} of ${t.parent.identifier}`;
  return `<span class="part-of" data-parent="${esc(t.parent.issueId)}" title="${esc(hint)}">part of ${esc(t.parent.identifier)}</span>`;
}
