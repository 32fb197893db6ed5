import type Anthropic from "@anthropic-ai/sdk";
import { addUsage, type Usage, ZERO_USAGE } from "../tasks/task.js";
import { CacheBreakpoints } from "./cache-breakpoints.js";
import { commandStop } from "./checks.js";
import { costOf, type Pricing } from "./pricing.js";
import type { AgentRunner, AgentSession, RunOutcome, SessionOptions, SessionTotals, TurnReport } from "./runner.js";
import { limitsNote } from "./limits-note.js";
import { SessionContext } from "./session-context.js";
import { requestThinking, type ThinkingParams } from "./thinking.js";
import { runTools } from "./run-tools.js";
import { CUT_OFF, isPromptTooLong, promptTokens, refusalDetail, toolLabel, usageOf, withoutEmptyText } from "./anthropic-messages.js";
import { createBashTool, createEditorTool } from "./tools/index.js";

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
  /** The model's context window in tokens (AGENT_CONTEXT_WINDOW or the model's own); default 200000. */
  contextWindow?: number;
  /** Share of the window the prompt is kept under (AGENT_CONTEXT_THRESHOLD); default 0.6. */
  contextThreshold?: number;
  /** While checks run, the prompt cache is refreshed this often (AGENT_CACHE_REFRESH_SECONDS); 0: never. */
  cacheRefreshMs?: number;
}

/** Anthropic's prompt cache lives 5 minutes from its last use; a refresh a little before keeps it. */
export const DEFAULT_CACHE_REFRESH_MS = 270_000;
/** Below this a prompt is not cached at all (the largest per-model minimum), so a refresh buys nothing. */
const MIN_CACHED_PROMPT_TOKENS = 4_096;

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
  private breakpoints = new CacheBreakpoints();
  private readonly editor;
  private readonly bash;
  private readonly context: SessionContext;
  /** Thinking and effort parameters of every call (the same on each, or the cached prefix would not match). */
  private readonly params: ThinkingParams;
  /** Prompt tokens of the last answered request: a cache smaller than the minimum is not refreshed. */
  private lastPromptTokens = 0;
  private turns = 0;
  private usage: Usage = { ...ZERO_USAGE };
  private cost = 0;

  constructor(
    private readonly o: AnthropicRunnerOptions,
    private readonly s: SessionOptions,
  ) {
    this.params = requestThinking(s.thinking ?? {}, o.model, o.maxTokens);
    this.editor = createEditorTool({ root: s.worktree, maxCharacters: 40_000 });
    this.bash = createBashTool({
      cwd: s.worktree,
      env: { ...o.commandEnv, ...s.env },
      timeoutMs: o.commandTimeoutMs,
      maxOutputChars: o.maxOutputChars ?? 30_000,
      jail: s.jail,
    });
    this.context = new SessionContext(
      {
        messages: this.messages,
        fixed: { system: this.system(), tools: this.tools() },
        writeNote: (messages) => this.writeNote(messages),
        touchedFiles: () => this.touchedFiles(),
        replaced: () => {
          this.breakpoints = new CacheBreakpoints();
        },
      },
      { window: o.contextWindow ?? 200_000, threshold: o.contextThreshold ?? 0.6 },
    );
  }

  totals(): SessionTotals {
    return { turns: this.turns, usage: this.usage, costUsd: this.cost, context: { ...this.context.counts } };
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
      if (!(await this.context.fit())) return this.outcome("context-window", finalText);

      const call = await this.turnCall();
      if (call.ended) return this.outcome(call.ended, finalText);
      if (!call.response) {
        // The prompt no longer fitted the model's window: compact and try again while that helps.
        if (await this.context.compact()) continue;
        return this.outcome("context-window", finalText);
      }
      const response = call.response;
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
      await this.report("turn", response, [...runnable.map((c) => toolLabel(c)), ...(cut ? [`${toolLabel(cut)} (cut off)`] : [])]);
      if (stop === "refusal") return this.outcome("refusal", finalText, refusalDetail(response.stop_details));
      if (stop === "model_context_window_exceeded") {
        if (await this.context.compact()) continue;
        return this.outcome("context-window", finalText);
      }
      if (calls.length > 0) {
        // Every tool_use must be answered, even when we are about to stop, so the conversation
        // stays valid for a later send().
        const results = await runTools(runnable, { editor: this.editor, bash: this.bash, signal: this.s.signal, drain: this.s.drain });
        if (cut) results.push({ type: "tool_result", tool_use_id: cut.id, content: CUT_OFF, is_error: true });
        this.appendUser([...results, { type: "text", text: limitsNote(this.s.limits, this.turns, this.cost) }]);
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

  /**
   * One turn's model call, streamed: a long reply has no 10-minute cap on the connection (so
   * AGENT_MAX_TOKENS may go to the model's own limit), a stop aborts it mid-reply, and a worker
   * shutdown aborts it after a short grace (the turn is handed over, not waited out).
   * `response` is undefined when the prompt did not fit the model's window.
   */
  private async turnCall(): Promise<{ response?: Anthropic.Messages.Message; ended?: "aborted" | "interrupted" }> {
    await this.s.onCallStart?.(this.turns + 1);
    // Hooked only now: a failed start hook would leave the listeners on the job's signal and the
    // process-wide drain for good (only the `finally` below disposes them).
    const stop = commandStop(this.s.signal, this.s.drain);
    const chars = this.context.chars();
    try {
      const response = await this.call(this.breakpoints.mark(this.messages), this.o.maxTokens, stop.signal);
      this.context.answered(chars, promptTokens(response.usage));
      return { response };
    } catch (err) {
      if (this.s.signal.aborted) return { ended: "aborted" };
      if (stop.signal.aborted) return { ended: "interrupted" };
      if (isPromptTooLong(err)) return {};
      throw err;
    } finally {
      stop.dispose();
    }
  }

  private call(messages: Message[], maxTokens: number, signal: AbortSignal): Promise<Anthropic.Messages.Message> {
    return this.o.client.messages
      .stream({ model: this.o.model, max_tokens: maxTokens, system: this.system(), tools: this.tools(), messages, ...this.params }, { signal })
      .finalMessage();
  }

  private system(): Anthropic.Messages.TextBlockParam[] {
    return [{ type: "text", text: this.s.system, cache_control: { type: "ephemeral" } }];
  }

  private tools(): Anthropic.Messages.ToolUnion[] {
    return [this.editor.definition, this.bash.definition];
  }

  /** Books a call's usage and cost to the session and reports it (turns only count as turns). */
  private async report(kind: NonNullable<TurnReport["kind"]>, response: Anthropic.Messages.Message, tools: string[]) {
    const usage = usageOf(response.usage);
    const costUsd = costOf(this.o.model, usage, this.o.pricing);
    if (kind === "turn") this.turns += 1;
    this.usage = addUsage(this.usage, usage);
    this.cost += costUsd;
    this.lastPromptTokens = kind === "refresh" ? this.lastPromptTokens : promptTokens(response.usage);
    await this.s.onTurn?.({ kind, turn: this.turns, usage, costUsd, tools });
  }

  /** The compaction note, written by the model; null when even that request no longer fits. */
  private async writeNote(messages: Message[]): Promise<string | null> {
    let response: Anthropic.Messages.Message;
    try {
      response = await this.call(this.breakpoints.mark(messages), this.o.maxTokens, this.s.signal);
    } catch (err) {
      if (isPromptTooLong(err)) return null;
      throw err;
    }
    await this.report("compaction", response, []);
    const note = response.content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("\n").trim();
    return note || null;
  }

  /**
   * Keeps the prompt cache warm while the service runs the checks: Anthropic's cache lives 5
   * minutes from its last use, and a check may take longer, after which the next turn would write
   * the whole history again at 1.25× instead of reading it at 0.1×. A refresh re-reads the cached
   * prefix (and caches the last reply) for a few output tokens.
   */
  keepWarm(): { stop(): void } {
    const every = this.o.cacheRefreshMs ?? DEFAULT_CACHE_REFRESH_MS;
    if (every <= 0) return { stop: () => undefined };
    const ctrl = new AbortController();
    let busy = false;
    const timer = setInterval(() => {
      if (busy || this.s.signal.aborted) return;
      busy = true;
      this.refresh(ctrl.signal)
        .catch(() => undefined) // a refresh is an optimisation: its failure costs one cache write later
        .finally(() => {
          busy = false;
        });
    }, every);
    timer.unref();
    return {
      stop: () => {
        clearInterval(timer);
        ctrl.abort();
      },
    };
  }

  private async refresh(signal: AbortSignal): Promise<void> {
    // Only a history that ends with the model's reply can take one more user message, and only a
    // cached prompt is worth refreshing.
    if (this.messages.at(-1)?.role !== "assistant" || this.lastPromptTokens < MIN_CACHED_PROMPT_TOKENS) return;
    const marked = this.breakpoints.mark(this.messages);
    const ping: Message = { role: "user", content: [{ type: "text", text: "[cache refresh] The checks are still running. Reply with OK." }] };
    // A manual thinking budget must stay under max_tokens; otherwise a few tokens are all it needs.
    const budget = this.params.thinking?.type === "enabled" ? this.params.thinking.budget_tokens : 0;
    const response = await this.call([...marked, ping], budget + 16, AbortSignal.any([signal, this.s.signal]));
    await this.report("refresh", response, []);
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

