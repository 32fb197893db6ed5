import path from "node:path";
import type { SDKMessage } from "@anthropic-ai/claude-agent-sdk";
import { type Usage, ZERO_USAGE } from "../../tasks/task.js";

/** One model call of Claude Code, complete with its final usage. */
export interface MeteredTurn {
  model: string;
  usage: Usage;
  /** Tool labels, e.g. ["Write src/a.ts", "Bash"]. */
  tools: string[];
  /** Whether the call asked for tools (so the runtime runs them next). */
  toolUse: boolean;
  /** The call's text, when it said anything. */
  text: string;
}

type RawUsage = {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
};

interface Open {
  id: string;
  model: string;
  usage: Usage;
  blocks: Map<string, { name: string; input: Record<string, unknown> }>;
  text: string[];
}

/**
 * Reads each model call's usage from the raw stream events (includePartialMessages). The
 * `assistant` messages carry only message_start's usage (output_tokens 1); the final output count
 * arrives in message_delta, so a turn is complete at message_stop.
 */
export class TurnMeter {
  private open: Open | null = null;
  /** Write/Edit calls by tool_use id, until their result says whether they happened. */
  private readonly pendingEdits = new Map<string, string>();
  private readonly touched = new Set<string>();

  constructor(private readonly worktree: string) {}

  /** Repository paths written or edited successfully so far. */
  touchedFiles(): string[] {
    return [...this.touched].sort();
  }

  /** Feeds one SDK message; returns the turn it completed, if any. */
  feed(m: SDKMessage): MeteredTurn | null {
    if (m.type === "assistant") this.collect(m.message.id, m.message.content as unknown[]);
    else if (m.type === "user") this.settle(m.message.content);
    else if (m.type === "stream_event") return this.event(m.event as { type: string } & Record<string, unknown>);
    return null;
  }

  private event(e: { type: string } & Record<string, unknown>): MeteredTurn | null {
    if (e.type === "message_start") {
      const msg = e.message as { id: string; model: string; usage: RawUsage };
      this.open = { id: msg.id, model: msg.model, usage: usageOf(msg.usage, ZERO_USAGE), blocks: new Map(), text: [] };
    } else if (e.type === "message_delta" && this.open) {
      this.open.usage = usageOf(e.usage as RawUsage, this.open.usage);
    } else if (e.type === "message_stop" && this.open) {
      const done = this.open;
      this.open = null;
      const blocks = [...done.blocks.values()];
      return { model: done.model, usage: done.usage, tools: blocks.map((b) => this.label(b)), toolUse: blocks.length > 0, text: done.text.join("\n").trim() };
    }
    return null;
  }

  // The assistant message(s) of the open call hold the complete tool inputs and text.
  private collect(id: string, content: unknown[]): void {
    for (const raw of content) {
      const b = raw as { type: string; id?: string; name?: string; input?: Record<string, unknown>; text?: string };
      if (b.type === "tool_use" && b.id && b.name) {
        if (this.open?.id === id) this.open.blocks.set(b.id, { name: b.name, input: b.input ?? {} });
        const file = b.input?.file_path;
        if ((b.name === "Write" || b.name === "Edit") && typeof file === "string") this.pendingEdits.set(b.id, file);
      } else if (b.type === "text" && b.text && this.open?.id === id) this.open.text.push(b.text);
    }
  }

  private settle(content: unknown): void {
    if (!Array.isArray(content)) return;
    for (const raw of content) {
      const r = raw as { type?: string; tool_use_id?: string; is_error?: boolean };
      if (r.type !== "tool_result" || !r.tool_use_id) continue;
      const file = this.pendingEdits.get(r.tool_use_id);
      this.pendingEdits.delete(r.tool_use_id);
      if (!file || r.is_error) continue;
      const rel = path.relative(this.worktree, path.resolve(this.worktree, file));
      if (rel && !rel.startsWith("..") && !path.isAbsolute(rel)) this.touched.add(rel.split(path.sep).join("/"));
    }
  }

  private label(b: { name: string; input: Record<string, unknown> }): string {
    const file = b.input.file_path;
    if (typeof file !== "string") return b.name;
    const rel = path.relative(this.worktree, path.resolve(this.worktree, file));
    return `${b.name} ${rel.startsWith("..") ? file : rel}`;
  }
}

// message_delta repeats the input counts (null when unknown): a known value replaces the start's.
function usageOf(u: RawUsage | undefined, prev: Usage): Usage {
  return {
    input: u?.input_tokens ?? prev.input,
    output: u?.output_tokens ?? prev.output,
    cacheWrite: u?.cache_creation_input_tokens ?? prev.cacheWrite,
    cacheRead: u?.cache_read_input_tokens ?? prev.cacheRead,
  };
}
