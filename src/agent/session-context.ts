import type Anthropic from "@anthropic-ai/sdk";
import {
  clearToolResults,
  COMPACTION_REQUEST,
  compactedHistory,
  mechanicalNote,
  PromptSize,
  serializedChars,
} from "./context-manager.js";

type Message = Anthropic.Messages.MessageParam;

/** Counts of what the context manager did in a session (recorded on the task). */
export interface ContextCounts {
  clearings: number;
  compactions: number;
  clearedTokens: number;
}

export interface ContextLimits {
  /** The model's context window, in tokens. */
  window: number;
  /** Fraction of the window the prompt is kept under. */
  threshold: number;
}

/** What a session lends the context manager: its history, and one model call for the note. */
export interface ContextHost {
  messages: Message[];
  fixed: { system: unknown; tools: unknown };
  /** Asks the model for the compaction note on `messages`; null when the request did not fit. */
  writeNote(messages: Message[]): Promise<string | null>;
  touchedFiles(): string[];
  /** The history was replaced: cache breakpoints must start over. */
  replaced(): void;
}

/**
 * Clearing frees down to this share of the limit, so it happens in rare, large batches. Every
 * clearing rewrites the cache from the first cleared block on, and between two clearings each turn
 * reads what is there: the lower this is, the more of the prompt is read from the cache.
 */
const CLEAR_TO = 0.4;
/** After clearing, a prompt still above this share of the limit is compacted. */
const COMPACT_ABOVE = 0.6;
/** A compacted history must leave this much headroom under the limit, or fewer turns are kept. */
const COMPACT_TO = 0.8;
/** Room a progress note takes (about 2,000 tokens). */
const NOTE_ALLOWANCE_CHARS = 8_000;

/**
 * Keeps a session's prompt under `threshold × window`, client-side so that it works the same with
 * any endpoint or gateway: first by clearing old tool results, then by compacting the run into a
 * progress note plus the last turns. Never fails a run that a compaction can still shrink.
 */
export class SessionContext {
  readonly size = new PromptSize();
  readonly counts: ContextCounts = { clearings: 0, compactions: 0, clearedTokens: 0 };
  private compactedSinceTurn = false;
  /** The system prompt and tools never change within a session: serialized once. */
  private readonly fixedChars: number;

  constructor(
    private readonly host: ContextHost,
    private readonly limits: ContextLimits,
  ) {
    this.fixedChars = serializedChars(host.fixed.system) + serializedChars(host.fixed.tools);
  }

  /** Tokens the prompt is kept under. */
  get limit(): number {
    return Math.floor(this.limits.window * this.limits.threshold);
  }

  /** Characters of the request the history makes now. */
  chars(messages = this.host.messages): number {
    return this.fixedChars + serializedChars(messages);
  }

  /** Learns the real size of the request just answered. */
  answered(chars: number, promptTokens: number): void {
    this.size.calibrate(chars, promptTokens);
    this.compactedSinceTurn = false;
  }

  /**
   * Makes the next request fit: clears a batch of old tool results when it is over the limit,
   * and compacts when that is not enough. False when nothing can make it fit.
   */
  async fit(): Promise<boolean> {
    const chars = this.chars();
    if (this.size.tokens(chars) <= this.limit) return true;
    const cleared = clearToolResults(this.host.messages, chars - this.size.chars(this.limit * CLEAR_TO));
    if (cleared.chars > 0) {
      this.counts.clearings += 1;
      this.counts.clearedTokens += this.size.tokens(cleared.chars);
    }
    const after = this.size.tokens(this.chars());
    // What clearing cannot touch (calls, placeholders, the model's own words) grows every turn;
    // once it keeps the prompt well above the clearing target, clearing would come ever more often
    // and free ever less, so the run compacts instead (and goes on without it if that fails).
    if (after <= this.limit * COMPACT_ABOVE) return true;
    return (await this.compact()) || after <= this.limit;
  }

  /**
   * Replaces the history with the task, a progress note and as many of the last turns as fit.
   * False when it cannot help: twice without a model turn in between, or nothing fits.
   */
  async compact(): Promise<boolean> {
    if (this.compactedSinceTurn) return false;
    const { messages } = this.host;
    // Without turns to drop (the task alone is too big), a note would cost a call and help nothing.
    const floor = compactedHistory(messages, "", 0);
    if (!floor || this.chars(floor) + NOTE_ALLOWANCE_CHARS >= this.chars()) return false;
    const note = (await this.host.writeNote(withRequest(messages))) ?? mechanicalNote(messages, this.host.touchedFiles());
    const before = this.chars();
    for (const turns of [2, 1, 0]) {
      const next = compactedHistory(messages, note, turns);
      if (!next) continue;
      const chars = this.chars(next);
      if (chars >= before || this.size.tokens(chars) > this.limit * COMPACT_TO) continue;
      messages.splice(0, messages.length, ...next);
      this.host.replaced();
      this.counts.compactions += 1;
      this.compactedSinceTurn = true;
      return true;
    }
    return false;
  }
}

// The request rides on the pending user message (tool results the model has not answered yet), so
// the note covers them and the conversation still alternates.
function withRequest(messages: Message[]): Message[] {
  const copy = messages.slice();
  const last = copy.at(-1);
  const request = { type: "text" as const, text: COMPACTION_REQUEST };
  if (last?.role === "user") {
    const content = typeof last.content === "string" ? [{ type: "text" as const, text: last.content }] : last.content;
    copy[copy.length - 1] = { role: "user", content: [...content, request] };
  } else copy.push({ role: "user", content: [request] });
  return copy;
}
