import type Anthropic from "@anthropic-ai/sdk";

type Message = Anthropic.Messages.MessageParam;
type Block = Exclude<Message["content"], string>[number];

/** A block's place in the history: message index, then block index inside that message. */
export interface BlockPosition {
  message: number;
  block: number;
}

const EPHEMERAL = { type: "ephemeral" } as const;

/**
 * Breakpoints the messages may carry: the API allows 4 per request and the runner spends one on
 * the system prompt (tools carry none; they sit before it in the prefix and are cached with it).
 */
export const MESSAGE_BREAKPOINTS = 3;

/**
 * Returns the messages with cache breakpoints, most valuable first while the budget lasts:
 * - the newest block, so the next request can read this whole history back;
 * - `previousEnd`, the last block of the previous request. The API looks for an earlier cached
 *   prefix only about 20 blocks back from a breakpoint, so after a turn with many parallel tool
 *   calls (each adds a tool_use and a tool_result) the newest breakpoint alone would miss last
 *   request's cache entry and the whole history would be written again at the cache-write price;
 * - the first block (the issue), stable for the whole job.
 * Older rolling breakpoints are dropped: each request only needs the one the previous wrote.
 */
export function withCacheBreakpoints(
  messages: Message[],
  previousEnd?: BlockPosition,
  budget = MESSAGE_BREAKPOINTS,
): Message[] {
  const asBlocks = messages.map((m): Block[] =>
    typeof m.content === "string" ? [{ type: "text", text: m.content }] : [...m.content],
  );
  const wanted = [endOf(messages), previousEnd, { message: 0, block: 0 }];
  const marks = new Set<string>();
  for (const position of wanted) {
    if (marks.size >= budget) break;
    const at = position && cacheableAtOrBefore(asBlocks, position);
    if (at) marks.add(key(at));
  }
  return messages.map((m, i) => {
    const content = (asBlocks[i] ?? []).map((b, j) => {
      const { cache_control: _old, ...rest } = b as Block & { cache_control?: unknown };
      return (marks.has(key({ message: i, block: j })) ? { ...rest, cache_control: EPHEMERAL } : rest) as Block;
    });
    return { ...m, content } as Message;
  });
}

/**
 * Places breakpoints for one session's requests, remembering where each request ended so the
 * next one keeps a breakpoint there. The runner only ever appends to its history (new messages,
 * or blocks pushed onto the last user message), so a remembered position stays valid.
 */
export class CacheBreakpoints {
  private previousEnd: BlockPosition | undefined;

  /** The messages to send, with breakpoints; call once per request, in order. */
  mark(messages: Message[]): Message[] {
    const marked = withCacheBreakpoints(messages, this.previousEnd);
    this.previousEnd = endOf(messages);
    return marked;
  }
}

function endOf(messages: Message[]): BlockPosition | undefined {
  const message = messages.length - 1;
  const last = messages[message];
  if (!last) return undefined;
  const count = typeof last.content === "string" ? 1 : last.content.length;
  return count > 0 ? { message, block: count - 1 } : undefined;
}

// A position that cannot carry a mark (a thinking block) falls back to the nearest earlier block
// that can, which is also where the previous request put its mark for the same position.
function cacheableAtOrBefore(blocks: Block[][], p: BlockPosition): BlockPosition | undefined {
  // A position past the end belongs to some other history; marking a stand-in would waste a slot.
  if (p.message >= blocks.length) return undefined;
  for (let i = p.message; i >= 0; i--) {
    const row = blocks[i] ?? [];
    const start = i === p.message ? Math.min(p.block, row.length - 1) : row.length - 1;
    for (let j = start; j >= 0; j--) {
      const b = row[j];
      if (b && canCache(b)) return { message: i, block: j };
    }
  }
  return undefined;
}

function key(p: BlockPosition): string {
  return `${p.message}.${p.block}`;
}

// Thinking blocks cannot carry cache_control; everything the agent sends here can.
function canCache(b: Block): boolean {
  return b.type !== "thinking" && b.type !== "redacted_thinking";
}
