import type Anthropic from "@anthropic-ai/sdk";
import { addUsage, type Usage, ZERO_USAGE } from "../tasks/task.js";
import { CacheBreakpoints } from "./cache-breakpoints.js";
import { commandStop } from "./checks.js";
import { costOf, type Pricing } from "./pricing.js";
import type { AgentRunner, AgentSession, RunOutcome, SessionOptions, SessionTotals } from "./runner.js";
import { createBashTool, createEditorTool, type ToolResult } from "./tools/index.js";

type Message = Anthropic.Messages.MessageParam;
type ToolResultBlock = Anthropic.Messages.ToolResultBlockParam;

export interface AnthropicRunnerOptions {
  client: Anthropic;
  model: string;
  maxTokens: number;
  /** Environment of the agent's shell: no secrets, ever. */
  commandEnv: Record<string, string>;
  commandTimeoutMs: number;
  maxOutputChars?: number;
  /** Prices from the config (AGENT_MODEL_PRICES); the built-in table when left out. */
  pricing?: Pricing;
}

/** The Messages API tool-use loop with Anthropic's trained client tools (text editor and bash). */
export class AnthropicRunner implements AgentRunner {
  readonly name = "anthropic";
  constructor(private readonly opts: AnthropicRunnerOptions) {}

  /** Opens a session whose tools are confined to the worktree. */
  startSession(s: SessionOptions): AgentSession {
    return new AnthropicSession(this.opts, s);
  }
}

class AnthropicSession implements AgentSession {
  private readonly messages: Message[] = [];
  private readonly breakpoints = new CacheBreakpoints();
  private readonly editor;
  private readonly bash;
  private turns = 0;
  private usage: Usage = { ...ZERO_USAGE };
  private cost = 0;

  constructor(
    private readonly o: AnthropicRunnerOptions,
    private readonly s: SessionOptions,
  ) {
    this.editor = createEditorTool({ root: s.worktree, maxCharacters: 40_000 });
    this.bash = createBashTool({
      cwd: s.worktree,
      env: { ...o.commandEnv, ...s.env },
      timeoutMs: o.commandTimeoutMs,
      maxOutputChars: o.maxOutputChars ?? 30_000,
      jail: s.jail,
    });
  }

  totals(): SessionTotals {
    return { turns: this.turns, usage: this.usage, costUsd: this.cost };
  }

  touchedFiles(): string[] {
    return this.editor.touched();
  }

  async close(): Promise<void> {
    await this.bash.close();
  }

  async send(message: string): Promise<RunOutcome> {
    this.appendUser([{ type: "text", text: message }]);
    let finalText = "";
    for (;;) {
      if (this.s.signal.aborted) return this.outcome("aborted", finalText);
      if (this.s.drain?.aborted) return this.outcome("interrupted", finalText);
      if (this.turns >= this.s.limits.maxTurns) return this.outcome("max-turns", finalText);
      if (this.cost >= this.s.limits.budgetUsd) return this.outcome("budget", finalText);

      let response: Anthropic.Messages.Message;
      try {
        // Streamed: a long reply has no 10-minute cap on the connection (so AGENT_MAX_TOKENS may go
        // to the model's own limit), and a stop aborts it mid-reply.
        response = await this.o.client.messages
          .stream(
            {
              model: this.o.model,
              max_tokens: this.o.maxTokens,
              system: [{ type: "text", text: this.s.system, cache_control: { type: "ephemeral" } }],
              tools: [this.editor.definition, this.bash.definition],
              messages: this.breakpoints.mark(this.messages),
            },
            { signal: this.s.signal },
          )
          .finalMessage();
      } catch (err) {
        if (this.s.signal.aborted) return this.outcome("aborted", finalText);
        throw err;
      }
      const turnUsage = usageOf(response.usage);
      const turnCost = costOf(this.o.model, turnUsage, this.o.pricing);
      this.turns += 1;
      this.usage = addUsage(this.usage, turnUsage);
      this.cost += turnCost;
      const stop = response.stop_reason;
      // A refused turn must leave the history (the API keeps refusing until it is removed), and a
      // reply that filled the context window is cut off anywhere; neither is kept or acted on.
      const terminal = stop === "refusal" || stop === "model_context_window_exceeded";
      const content = terminal ? [] : withoutEmptyText(response.content);
      // The API rejects an empty assistant message anywhere but last, so an empty reply would
      // make every later request of this session fail with a 400.
      if (content.length > 0) this.messages.push({ role: "assistant", content });
      const text = content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("\n");
      if (text.trim()) finalText = text;

      const calls = content.filter((b): b is Anthropic.Messages.ToolUseBlock => b.type === "tool_use");
      // Output stops mid-block at max_tokens: a trailing tool call may carry half its input (a
      // truncated file_text, a command missing its end), so running it could do damage.
      const last = content.at(-1);
      const cut = stop === "max_tokens" && last?.type === "tool_use" ? last : undefined;
      const runnable = cut ? calls.filter((c) => c !== cut) : calls;
      await this.s.onTurn?.({
        turn: this.turns,
        usage: turnUsage,
        costUsd: turnCost,
        tools: [...runnable.map((c) => toolLabel(c)), ...(cut ? [`${toolLabel(cut)} (cut off)`] : [])],
      });
      if (stop === "refusal") return this.outcome("refusal", finalText, refusalDetail(response.stop_details));
      if (stop === "model_context_window_exceeded") return this.outcome("context-window", finalText);
      if (calls.length > 0) {
        // Every tool_use must be answered, even when we are about to stop, so the conversation
        // stays valid for a later send().
        const results = await this.runTools(runnable);
        if (cut) results.push({ type: "tool_result", tool_use_id: cut.id, content: CUT_OFF, is_error: true });
        this.appendUser([...results, { type: "text", text: this.limitsNote() }]);
        continue;
      }
      if (stop === "max_tokens") {
        this.appendUser([{ type: "text", text: "Your reply was cut off by the output limit. Continue." }]);
        continue;
      }
      if (stop === "pause_turn") continue;
      return this.outcome("done", finalText);
    }
  }

  private async runTools(calls: Anthropic.Messages.ToolUseBlock[]): Promise<ToolResultBlock[]> {
    const results: ToolResultBlock[] = [];
    // Set once a worker shutdown killed a command of this turn: the turn's later commands are
    // not started, so the drain waits for one grace period at most.
    let drained = false;
    for (const call of calls) {
      let r: ToolResult;
      // Every call gets a result, even one not run, so each tool_use stays answered.
      if (this.s.signal.aborted) r = { content: "The run was stopped.", isError: true };
      else if (call.name === "str_replace_based_edit_tool") r = await this.editor.run(call.input);
      else if (call.name === "bash" && drained) r = { content: DRAINED, isError: true };
      else if (call.name === "bash") {
        // A command may run for minutes (its timeout), so a worker shutdown kills it after a
        // short grace instead of waiting for it as it waits for a model call.
        const stop = commandStop(this.s.signal, this.s.drain);
        try {
          r = await this.bash.run(call.input, stop.signal);
        } finally {
          stop.dispose();
        }
        if (stop.signal.aborted && !this.s.signal.aborted) {
          drained = true;
          r = { content: DRAINED, isError: true };
        }
      } else r = { content: `Unknown tool "${call.name}".`, isError: true };
      results.push({
        type: "tool_result",
        tool_use_id: call.id,
        content: r.content || "(no output)",
        ...(r.isError ? { is_error: true } : {}),
      });
    }
    return results;
  }

  /**
   * What is left of the run's turns and budget, told after every turn so the model can plan; near
   * the end it is asked to wrap up, so the run ends with a report saying what is unfinished rather
   * than being cut off mid-change.
   */
  private limitsNote(): string {
    const { maxTurns, budgetUsd } = this.s.limits;
    const turnsLeft = Math.max(0, maxTurns - this.turns);
    const usdLeft = Math.max(0, budgetUsd - this.cost);
    const perTurn = this.turns > 0 ? this.cost / this.turns : 0;
    const line = `[limits] ${turnsLeft} of ${maxTurns} turns and $${usdLeft.toFixed(2)} of $${budgetUsd.toFixed(2)} left.`;
    const nearEnd = turnsLeft <= 2 || usdLeft <= Math.max(budgetUsd * 0.1, perTurn * 2);
    return nearEnd
      ? `${line} You are about to run out: start nothing new. Leave the code in a consistent state and end now with your report, listing what is done and, under Open points, what is left.`
      : line;
  }

  // Consecutive user content (tool results, then a follow-up) goes into one message.
  private appendUser(blocks: Array<ToolResultBlock | Anthropic.Messages.TextBlockParam>) {
    const last = this.messages.at(-1);
    if (last?.role === "user" && Array.isArray(last.content)) last.content.push(...blocks);
    else this.messages.push({ role: "user", content: blocks });
  }

  private outcome(stop: RunOutcome["stop"], finalText: string, stopDetail?: string): RunOutcome {
    return { stop, finalText, ...this.totals(), ...(stopDetail ? { stopDetail } : {}) };
  }
}

const CUT_OFF =
  "Not run: your reply hit the output limit (max_tokens) while writing this tool call, so its input " +
  "may be incomplete. Send the call again in smaller pieces (for example, create a large file in parts " +
  "with several smaller edits).";

const DRAINED =
  "Interrupted: the worker is shutting down, so this command was killed (or not started); the work resumes in a new session.";

type ContentBlock = Anthropic.Messages.ContentBlock;

// The API rejects empty (or blank) text blocks in a request, so they cannot go back in the history.
function withoutEmptyText(content: ContentBlock[]): ContentBlock[] {
  return content.filter((b) => b.type !== "text" || b.text.trim() !== "");
}

function refusalDetail(d: Anthropic.Messages.RefusalStopDetails | null): string | undefined {
  if (!d) return undefined;
  const parts = [d.category && `category ${d.category}`, d.explanation].filter(Boolean);
  return parts.length ? parts.join(": ") : undefined;
}

function usageOf(u: Anthropic.Messages.Usage): Usage {
  return {
    input: u.input_tokens ?? 0,
    output: u.output_tokens ?? 0,
    cacheWrite: u.cache_creation_input_tokens ?? 0,
    cacheRead: u.cache_read_input_tokens ?? 0,
  };
}

function toolLabel(c: Anthropic.Messages.ToolUseBlock): string {
  const input = c.input as { command?: unknown };
  return c.name === "str_replace_based_edit_tool" && typeof input.command === "string"
    ? `edit:${input.command}`
    : c.name;
}
