/** Builds Messages API response objects and server-sent event streams. */
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { CacheUsage } from "./cache.js";

export type ScriptedBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id?: string; name: string; input: unknown };

export type ScriptedTurn =
  | {
      content: ScriptedBlock[];
      stop_reason?: "end_turn" | "tool_use" | "max_tokens" | "pause_turn" | "refusal" | "model_context_window_exceeded";
      /** Sent with a refusal, as the API does: why the model declined. */
      stop_details?: { category: string | null; explanation: string | null };
      output_tokens?: number;
      /** Of output_tokens, how many were thinking (reported in output_tokens_details). */
      thinking_tokens?: number;
      /** The model takes this long before it answers (a long reply in flight). */
      delayMs?: number;
    }
  | { error: { status: number; type: string; message: string; retryAfterSeconds?: number } };

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function randomId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (const b of bytes) out += BASE62[b % 62];
  return out;
}

export function errorBody(type: string, message: string, requestId: string): Record<string, unknown> {
  return { type: "error", error: { type, message }, request_id: requestId };
}

export function usageObject(cache: CacheUsage, outputTokens: number, thinkingTokens?: number): Record<string, unknown> {
  return {
    input_tokens: cache.input_tokens,
    cache_creation_input_tokens: cache.cache_creation_input_tokens,
    cache_read_input_tokens: cache.cache_read_input_tokens,
    cache_creation: {
      ephemeral_5m_input_tokens: cache.ttl === "5m" ? cache.cache_creation_input_tokens : 0,
      ephemeral_1h_input_tokens: cache.ttl === "1h" ? cache.cache_creation_input_tokens : 0,
    },
    output_tokens: outputTokens,
    output_tokens_details: thinkingTokens === undefined ? null : { thinking_tokens: thinkingTokens },
    server_tool_use: null,
    service_tier: "standard",
    inference_geo: null,
    speed: null,
  };
}

export interface BuiltMessage {
  message: Record<string, unknown>;
  outputTokens: number;
}

export function buildMessage(
  turn: Extract<ScriptedTurn, { content: unknown }>,
  model: string,
  cache: CacheUsage,
): BuiltMessage {
  const content = turn.content.map((b) =>
    b.type === "text"
      ? { type: "text", text: b.text, citations: null }
      : {
          type: "tool_use",
          id: b.id ?? randomId("toolu_01"),
          name: b.name,
          input: b.input,
          caller: { type: "direct" },
        },
  );
  const hasToolUse = content.some((b) => b.type === "tool_use");
  const outputTokens = turn.output_tokens ?? Math.max(1, Math.ceil(JSON.stringify(turn.content).length / 4));
  const message = {
    id: randomId("msg_01"),
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: turn.stop_reason ?? (hasToolUse ? "tool_use" : "end_turn"),
    stop_sequence: null,
    stop_details: turn.stop_details ? { type: "refusal", ...turn.stop_details } : null,
    container: null,
    diagnostics: null,
    usage: usageObject(cache, outputTokens, turn.thinking_tokens),
  };
  return { message, outputTokens };
}

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [""];
}

/** Streams a built message as the API does: message_start, content blocks with deltas, message_delta, message_stop. */
export function writeSse(res: ServerResponse, built: BuiltMessage, headers: Record<string, string>): void {
  res.writeHead(200, {
    ...headers,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
  });
  const event = (name: string, data: Record<string, unknown>) => {
    res.write(`event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`);
  };
  const { message, outputTokens } = built;
  const usage = message.usage as Record<string, unknown>;
  event("message_start", {
    message: {
      ...message,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, output_tokens: 1 },
    },
  });
  event("ping", {});
  (message.content as Array<Record<string, unknown>>).forEach((block, index) => {
    if (block.type === "text") {
      event("content_block_start", { index, content_block: { type: "text", text: "", citations: null } });
      for (const text of chunks(String(block.text), 16)) {
        event("content_block_delta", { index, delta: { type: "text_delta", text } });
      }
    } else {
      event("content_block_start", { index, content_block: { ...block, input: {} } });
      for (const partial_json of chunks(JSON.stringify(block.input ?? {}), 16)) {
        event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json } });
      }
    }
    event("content_block_stop", { index });
  });
  event("message_delta", {
    delta: { stop_reason: message.stop_reason, stop_sequence: null, stop_details: message.stop_details },
    usage: {
      output_tokens: outputTokens,
      input_tokens: usage.input_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
      output_tokens_details: usage.output_tokens_details,
      server_tool_use: null,
    },
  });
  event("message_stop", {});
  res.end();
}
