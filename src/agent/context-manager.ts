import type Anthropic from "@anthropic-ai/sdk";

type Message = Anthropic.Messages.MessageParam;
type Block = Exclude<Message["content"], string>[number];

/** What replaces a cleared tool result: the model learns that something was there and how to get it back. */
export const CLEARED_RESULT = "[cleared to save context; run the tool again if you need it]";
const CLEARED_INPUT = "[cleared to save context]";
/** Tool inputs (a created file's text, a replacement) shorter than this are kept: clearing them frees little. */
const BIG_INPUT_CHARS = 400;

/** Text blocks that start so are notes of the moment (turns and budget left): stale once a newer one follows. */
export const LIMITS_NOTE_PREFIX = "[limits]";

/** The most recent tool results are never cleared: the model is usually still working with them. */
export const KEEP_TOOL_RESULTS = 3;

/**
 * Converts the API's own token counts to an estimate for a prompt not sent yet: tokens per
 * character of the serialized request, calibrated on every response (before the first, a
 * conservative 1 token per 3 characters). Works the same against any endpoint or gateway.
 */
export class PromptSize {
  private tokensPerChar = 1 / 3;

  /** Learns from a request of `chars` characters that the API counted as `tokens`. */
  calibrate(chars: number, tokens: number): void {
    if (chars > 0 && tokens > 0) this.tokensPerChar = tokens / chars;
  }

  /** Estimated tokens of a request of `chars` characters. */
  tokens(chars: number): number {
    return Math.ceil(chars * this.tokensPerChar);
  }

  /** Characters that make about `tokens` tokens. */
  chars(tokens: number): number {
    return Math.floor(tokens / this.tokensPerChar);
  }
}

/** Characters of a request's serialized parts (its system prompt, tools or messages), as the estimate counts them. */
export function serializedChars(part: unknown): number {
  return JSON.stringify(part).length;
}

export interface Cleared {
  results: number;
  inputs: number;
  chars: number;
}

/**
 * Clears the oldest tool results (and large tool inputs) in place, oldest first, until `charsToFree`
 * characters are freed or only the last `keep` tool results are left, as Anthropic's context
 * editing does server-side. The caller frees a large batch at once: every clearing changes the
 * prompt from the first cleared block on, so the cache is written again from there.
 */
export function clearToolResults(messages: Message[], charsToFree: number, keep = KEEP_TOOL_RESULTS): Cleared {
  const results = messages.flatMap((m) => (Array.isArray(m.content) ? m.content : []).filter(isToolResult));
  const kept = new Set(results.slice(Math.max(0, results.length - keep)).map((r) => r.tool_use_id));
  const done: Cleared = { results: 0, inputs: 0, chars: 0 };
  for (const [i, m] of messages.entries()) {
    if (done.chars >= charsToFree) break;
    if (!Array.isArray(m.content)) continue;
    if (m.role === "user" && i < messages.length - 1) done.chars += dropStaleNotes(m);
    for (const b of m.content as Block[]) {
      if (b.type === "tool_use" && !kept.has(b.id)) done.chars += clearInput(b, done);
      else if (isToolResult(b) && !kept.has(b.tool_use_id)) done.chars += clearResult(b, done);
    }
  }
  return done;
}

// Every turn ends with a note of the turns and budget left; only the newest says anything.
function dropStaleNotes(m: Message): number {
  const blocks = m.content as Block[];
  const kept = blocks.filter((b) => !(b.type === "text" && b.text.startsWith(LIMITS_NOTE_PREFIX)));
  if (kept.length === blocks.length || kept.length === 0) return 0;
  const freed = JSON.stringify(blocks).length - JSON.stringify(kept).length;
  m.content = kept;
  return freed;
}

function isToolResult(b: Block): b is Anthropic.Messages.ToolResultBlockParam {
  return b.type === "tool_result";
}

function clearResult(b: Anthropic.Messages.ToolResultBlockParam, done: Cleared): number {
  const before = JSON.stringify(b.content ?? "").length;
  if (before <= CLEARED_RESULT.length + 2) return 0;
  b.content = CLEARED_RESULT;
  done.results += 1;
  return before - JSON.stringify(CLEARED_RESULT).length;
}

// Only string fields are cut (file_text, new_str, old_str, command): the call stays well-formed.
function clearInput(b: Anthropic.Messages.ToolUseBlockParam, done: Cleared): number {
  const input = b.input as Record<string, unknown> | null;
  if (!input || typeof input !== "object") return 0;
  let freed = 0;
  for (const [k, v] of Object.entries(input)) {
    if (typeof v === "string" && v.length > BIG_INPUT_CHARS) {
      input[k] = CLEARED_INPUT;
      freed += v.length - CLEARED_INPUT.length;
    }
  }
  if (freed > 0) done.inputs += 1;
  return freed;
}

/**
 * Asked of the model when clearing is not enough: a note in the hand-off note's shape, from which
 * the run goes on. It is appended to the pending user message, so the model has seen everything.
 */
export const COMPACTION_REQUEST = `[context] This conversation is about to outgrow the model's context window, so it will be compacted: everything above, except the issue and the last few turns, is replaced by a note you write now. Do not call any tool. Reply with the note only, in exactly this shape:
## Summary
<what is done so far, and how it was verified>
## Files
<one line per file changed so far, with what changed>
## Decisions
<choices made and why; approaches tried that failed>
## Open points
<what is left to do, in order; the next step first>`;

/** Marks the note in the compacted first message, so a later compaction replaces it instead of adding another. */
const NOTE_OPEN = "<progress-note>";

/**
 * The history after a compaction: the first message (the task, with the note instead of anything
 * older) and the last `turns` exchanges, starting at an assistant message so every tool result
 * still follows its call. Thinking blocks stay only in the last assistant message, the one the
 * API needs them in. Returns null when the history has no such turns to keep.
 */
export function compactedHistory(messages: Message[], note: string, turns: number): Message[] | null {
  const first = messages[0];
  if (!first || first.role !== "user") return null;
  const assistants = messages.flatMap((m, i) => (m.role === "assistant" && i > 0 ? [i] : []));
  const start = turns > 0 ? assistants.at(-turns) : messages.length;
  if (start === undefined) return null;
  const head: Message = { role: "user", content: [...withoutNote(first), { type: "text", text: noteBlock(note, turns > 0) }] };
  const lastAssistant = assistants.at(-1);
  const tail = messages.slice(start).map((m, k) =>
    m.role === "assistant" && start + k !== lastAssistant && Array.isArray(m.content)
      ? { ...m, content: m.content.filter((b) => b.type !== "thinking" && b.type !== "redacted_thinking") }
      : m,
  );
  // An assistant message that held only thinking is empty now, and the API refuses an empty message.
  return [head, ...tail.filter((m) => !Array.isArray(m.content) || m.content.length > 0)];
}

function withoutNote(first: Message): Block[] {
  const blocks: Block[] = typeof first.content === "string" ? [{ type: "text", text: first.content }] : first.content;
  return blocks.filter((b) => !(b.type === "text" && b.text.startsWith(NOTE_OPEN)));
}

function noteBlock(note: string, turnsFollow: boolean): string {
  return `${NOTE_OPEN}\n${note.trim()}\n</progress-note>\nThe conversation before this point was compacted into the note above${
    turnsFollow ? "; the most recent turns follow" : ""
  }. Continue the work from where the note leaves it.`;
}

/**
 * The note when the model cannot write one (the history no longer fits even for that request):
 * what the service itself knows, so the run goes on rather than failing.
 */
export function mechanicalNote(messages: Message[], touched: string[]): string {
  const said = messages
    .filter((m) => m.role === "assistant" && Array.isArray(m.content))
    .flatMap((m) => (m.content as Block[]).flatMap((b) => (b.type === "text" ? [b.text.trim()] : [])))
    .filter(Boolean)
    .slice(-3)
    .join("\n")
    .slice(-2_000);
  return [
    "## Summary",
    "The earlier part of this run no longer fitted in the model's context window and was dropped without a summary.",
    "## Files",
    touched.length ? touched.join("\n") : "(none edited through the editor; see git status)",
    "## Decisions",
    said || "none recorded",
    "## Open points",
    "Run `git status` and `git diff` to see where the work stands, then continue the task.",
  ].join("\n");
}
