// What the agent of a task is doing inside its run, as the table shows it: a model call in flight
// (ticked client-side from turnStartedAt, so a long turn visibly moves between task events) and
// how often its context was trimmed to stay under AGENT_CONTEXT_THRESHOLD.
import type { Task } from "../tasks/task.js";
import { between, esc, tokens } from "./html.js";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** "42s", "3m 07s", "1h 02m": finer than duration(), as a turn is watched second by second. */
export function turnClock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(s / 60);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 60) return `${s}s`;
  return m < 60 ? `${m}m ${pad(s % 60)}s` : `${Math.floor(m / 60)}h ${pad(m % 60)}m`;
}

/**
 * "model turn in progress · 42s" under a working task's badge, or "" when no call is in flight.
 * The page's script ticks it on from `data-turn-elapsed` (see client-script.ts).
 */
export function turnInProgress(t: Task, now: number): string {
  if ((t.state !== "working" && t.state !== "revising") || !t.turnStartedAt) return "";
  const elapsed = between(t.turnStartedAt, null, now);
  if (elapsed === null) return "";
  const ms = Math.max(0, elapsed);
  return (
    `<div class="turn-live" data-turn-elapsed="${ms}" title="model call started ${esc(t.turnStartedAt)}">` +
    `model turn in progress · <span class="ticker">${esc(turnClock(ms))}</span></div>`
  );
}

/** "1 compaction · 2 clearings", or "" when the context was never trimmed. */
export function contextNote(t: Pick<Task, "context">): string {
  const c = t.context;
  if (!c || (c.compactions === 0 && c.clearings === 0)) return "";
  return [c.compactions ? plural(c.compactions, "compaction") : "", c.clearings ? plural(c.clearings, "clearing") : ""]
    .filter(Boolean)
    .join(" · ");
}

/** The Turns cell: the count, and under it how often the context was compacted or cleared. */
export function turnsCell(t: Task): string {
  const note = contextNote(t);
  if (!note) return `<td class="num">${t.turns}</td>`;
  const cleared = t.context?.clearedTokens ? `; ${tokens(t.context.clearedTokens)} tokens of old tool results cleared` : "";
  const title = `context kept under its threshold: ${note}${cleared}`;
  return `<td class="num" title="${esc(title)}">${t.turns}<div class="ctx" data-context>${esc(note)}</div></td>`;
}
