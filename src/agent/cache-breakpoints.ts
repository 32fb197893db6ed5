import type Anthropic from "@anthropic-ai/sdk";

type Message = Anthropic.Messages.MessageParam;
type Block = Exclude<Message["content"], string>[number];

const EPHEMERAL = { type: "ephemeral" } as const;

/**
 * Returns the messages with cache breakpoints on the first user block (the issue: stable for the
 * whole job) and on the newest block, so every turn re-reads the history from the cache instead
 * of paying for it again. With the system prompt's breakpoint that makes 3 of the 4 allowed.
 * Older rolling breakpoints are dropped; the API finds the previous prefix by itself.
 */
export function withCacheBreakpoints(messages: Message[]): Message[] {
  const last = messages.length - 1;
  return messages.map((m, i) => {
    const blocks: Block[] =
      typeof m.content === "string" ? [{ type: "text", text: m.content }] : [...m.content];
    const marks = new Set<number>();
    if (i === 0) marks.add(0);
    if (i === last) marks.add(blocks.length - 1);
    const content = blocks.map((b, j) => {
      const { cache_control: _old, ...rest } = b as Block & { cache_control?: unknown };
      return (marks.has(j) && canCache(b) ? { ...rest, cache_control: EPHEMERAL } : rest) as Block;
    });
    return { ...m, content } as Message;
  });
}

// Thinking blocks cannot carry cache_control; everything the agent sends here can.
function canCache(b: Block): boolean {
  return b.type !== "thinking" && b.type !== "redacted_thinking";
}
