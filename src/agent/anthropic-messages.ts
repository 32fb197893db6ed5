import type Anthropic from "@anthropic-ai/sdk";
import type { Usage } from "../tasks/task.js";

// Reading the Messages API's replies: content, stop details and usage.

/** The answer to a tool call cut off by max_tokens. */
export const CUT_OFF =
  "Not run: your reply hit the output limit (max_tokens) while writing this tool call, so its input " +
  "may be incomplete. Send the call again in smaller pieces (for example, create a large file in parts " +
  "with several smaller edits).";

type ContentBlock = Anthropic.Messages.ContentBlock;

// The API rejects empty (or blank) text blocks in a request, so they cannot go back in the history.
export function withoutEmptyText(content: ContentBlock[]): ContentBlock[] {
  return content.filter((b) => b.type !== "text" || b.text.trim() !== "");
}

export function refusalDetail(d: Anthropic.Messages.RefusalStopDetails | null): string | undefined {
  if (!d) return undefined;
  const parts = [d.category && `category ${d.category}`, d.explanation].filter(Boolean);
  return parts.length ? parts.join(": ") : undefined;
}

export function usageOf(u: Anthropic.Messages.Usage): Usage {
  const thinking = u.output_tokens_details?.thinking_tokens ?? 0;
  return {
    input: u.input_tokens ?? 0,
    output: u.output_tokens ?? 0,
    cacheWrite: u.cache_creation_input_tokens ?? 0,
    cacheRead: u.cache_read_input_tokens ?? 0,
    ...(thinking > 0 ? { thinking } : {}),
  };
}

export function promptTokens(u: Anthropic.Messages.Usage): number {
  return (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
}

// The API answers a prompt over the model's window with a 400 "prompt is too long: N tokens > M
// maximum"; gateways word it in their own ways.
export function isPromptTooLong(err: unknown): boolean {
  const e = err as { status?: number; message?: string } | null;
  return e?.status === 400 && /prompt is too long|context (window|length)|too many (input )?tokens/i.test(e.message ?? "");
}

export function toolLabel(c: Anthropic.Messages.ToolUseBlock): string {
  const input = c.input as { command?: unknown };
  return c.name === "str_replace_based_edit_tool" && typeof input.command === "string"
    ? `edit:${input.command}`
    : c.name;
}
