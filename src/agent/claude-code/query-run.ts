import type { ChildProcess } from "node:child_process";
import type { Options, SDKMessage, SDKResultMessage } from "@anthropic-ai/claude-agent-sdk";
import { DRAIN_GRACE_MS } from "../checks.js";
import type { StopReason } from "../runner.js";
import type { ClaudeAgentSdk } from "./load-sdk.js";
import { killGroup } from "./spawn-in-jail.js";
import type { MeteredTurn, TurnMeter } from "./turn-meter.js";

/** A Claude Code run that ended in a way the job must treat as a failure (an API error after retries). */
export class ClaudeCodeError extends Error {
  override name = "ClaudeCodeError";
}

export interface QueryRunInput {
  sdk: ClaudeAgentSdk;
  prompt: string;
  /** Everything but the abort controller, which the run owns. */
  options: Omit<Options, "abortController">;
  meter: TurnMeter;
  /** The session's processes, killed at once on a stop. */
  children: Set<ChildProcess>;
  /** Stop: ends the run at once. */
  signal: AbortSignal;
  /** Worker shutdown: ends the run at the next turn boundary, or after a short grace. */
  drain?: AbortSignal;
  /** A model call starts (the dashboard shows a turn in progress). */
  onCallStart?: () => void | Promise<void>;
  /** Books a turn; returns a limit to stop at before the next model call (budget, max-turns). */
  onTurn(turn: MeteredTurn): Promise<StopReason | null>;
}

export interface QueryRunEnd {
  stop: StopReason;
  finalText: string;
  result: SDKResultMessage | null;
}

/**
 * When a run must end: at once for a stop (the session's processes are killed, not closed
 * gracefully over ~2 s as the SDK would), or at the next turn boundary for a drain or a limit.
 */
class Stops {
  readonly ctrl = new AbortController();
  stopped: StopReason | null = null;
  pending: StopReason | null = null;
  private grace: NodeJS.Timeout | undefined;

  constructor(private readonly children: Set<ChildProcess>) {}

  now(why: StopReason): void {
    if (this.stopped) return;
    this.stopped = why;
    this.dispose();
    for (const c of this.children) killGroup(c);
    this.ctrl.abort();
  }

  /**
   * A drain: the run ends at the next boundary, or after the built-in runner's grace when a
   * command or a model call outlasts it (a shutdown must not wait minutes; the work is handed over).
   */
  drain(): void {
    this.pending = "interrupted";
    this.grace ??= setTimeout(() => this.now("interrupted"), DRAIN_GRACE_MS);
  }

  /** A turn was booked; `limit` is what its booking reached, if anything. */
  turn(limit: StopReason | null): void {
    if (limit && this.pending !== "interrupted") this.pending = limit;
  }

  /** A boundary (tool results back, or a new model call starting): a pending stop applies now. */
  boundary(): void {
    if (this.pending) this.now(this.pending);
  }

  dispose(): void {
    clearTimeout(this.grace);
  }
}

/**
 * One `query()`: feeds the meter, applies stops and limits at turn boundaries and maps the result.
 * The iterator throws after an error result and when its process is killed, so errors are judged
 * by what was seen first, not by the throw.
 */
export async function runQuery(p: QueryRunInput): Promise<QueryRunEnd> {
  if (p.signal.aborted) return { stop: "aborted", finalText: "", result: null };
  const stops = new Stops(p.children);
  const onAbort = () => stops.now("aborted");
  const onDrain = () => stops.drain();
  let result: SDKResultMessage | null = null;
  let lastText = "";
  // Before the listeners: a query() that throws at once must not leave them on the job's signal.
  const q = p.sdk.query({ prompt: p.prompt, options: { ...p.options, abortController: stops.ctrl } });
  p.signal.addEventListener("abort", onAbort, { once: true });
  p.drain?.addEventListener("abort", onDrain, { once: true });
  try {
    for await (const m of q) {
      if (m.type === "stream_event" && m.event.type === "message_start") {
        stops.boundary();
        if (stops.stopped) break;
        await p.onCallStart?.();
      }
      const turn = p.meter.feed(m);
      if (turn) {
        if (turn.text) lastText = turn.text;
        stops.turn(await p.onTurn(turn));
      } else if (isToolResults(m)) stops.boundary();
      else if (m.type === "result") result = m;
      if (stops.stopped) break;
    }
  } catch (err) {
    if (!stops.stopped && !result) throw err;
  } finally {
    stops.dispose();
    p.signal.removeEventListener("abort", onAbort);
    p.drain?.removeEventListener("abort", onDrain);
    q.close();
  }
  if (stops.stopped) return { stop: stops.stopped, finalText: lastText, result };
  if (!result) throw new ClaudeCodeError("Claude Code ended without a result");
  return { ...mapResult(result, lastText), result };
}

function isToolResults(m: SDKMessage): boolean {
  if (m.type !== "user" || !Array.isArray(m.message.content)) return false;
  return m.message.content.some((b) => (b as { type?: string }).type === "tool_result");
}

/** The result's subtype as the service's stop reason; errors become a ClaudeCodeError. */
export function mapResult(r: SDKResultMessage, lastText: string): { stop: StopReason; finalText: string } {
  if (r.subtype === "success") {
    if (r.is_error) throw new ClaudeCodeError(`Claude Code ended with an error: ${r.result}`);
    const stop: StopReason =
      r.stop_reason === "refusal" ? "refusal" : r.stop_reason === "model_context_window_exceeded" ? "context-window" : "done";
    return { stop, finalText: r.result || lastText };
  }
  if (r.subtype === "error_max_turns") return { stop: "max-turns", finalText: lastText };
  if (r.subtype === "error_max_budget_usd") return { stop: "budget", finalText: lastText };
  throw new ClaudeCodeError(`Claude Code failed (${r.subtype}): ${r.errors.join("; ") || "no details"}`);
}
