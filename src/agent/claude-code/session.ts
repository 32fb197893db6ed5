import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Options, SDKResultMessage } from "@anthropic-ai/claude-agent-sdk";
import type { Logger } from "../../logger.js";
import { ModelGateway } from "../../sandbox/model-gateway.js";
import { addUsage, type Usage, ZERO_USAGE } from "../../tasks/task.js";
import type { Pricing } from "../pricing.js";
import type { AgentSession, RunOutcome, SessionOptions, SessionTotals, StopReason } from "../runner.js";
import { claudeCodeEnv } from "./child-env.js";
import { limitsNoteHook, preToolUseGuard } from "./guard.js";
import type { ThinkingSettings } from "../thinking.js";
import type { ClaudeAgentSdk } from "./load-sdk.js";
import { limitsNote } from "../limits-note.js";
import { GatewaySpend } from "./gateway-spend.js";
import { followUpPrompt, runtimeNote } from "./prompt.js";
import { runQuery } from "./query-run.js";
import { GATEWAY_PORT_INSIDE, killAll, spawnInJail } from "./spawn-in-jail.js";
import { type MeteredTurn, TurnMeter } from "./turn-meter.js";

/** Claude Code's tools the agent gets: the file tools and the shell, nothing that reaches out (web, MCP, sub-agents). */
export const CLAUDE_CODE_TOOLS = ["Read", "Write", "Edit", "Bash", "Glob", "Grep"];

/** What every session of a ClaudeCodeRunner shares. */
export interface ClaudeCodeRunnerOptions {
  sdk: ClaudeAgentSdk;
  /** The `claude` binary of this platform (bound read-only into the jail). */
  executable: string;
  model: string;
  /** The real API key: given to the per-job model gateway only. */
  apiKey: string;
  /** Where the gateway forwards (ANTHROPIC_BASE_URL, or Anthropic's API). */
  upstream: string;
  pricing: Pricing;
  /** PATH and LANG of agent commands: no secrets, ever. */
  commandEnv: Readonly<Record<string, string>>;
  commandTimeoutMs: number;
  maxTokens: number;
  logger: Logger;
  clientApp: string;
}

/** The repository's thinking and effort (routing file) as the SDK's options; "between-tools" has no SDK form and is left to the default. */
function thinkingOptions(t: ThinkingSettings | undefined): Pick<Options, "thinking" | "effort"> {
  const out: Pick<Options, "thinking" | "effort"> = {};
  if (t?.effort) out.effort = t.effort;
  if (typeof t?.thinking === "number") out.thinking = { type: "enabled", budgetTokens: t.thinking };
  else if (t?.thinking === "adaptive") out.thinking = { type: "adaptive" };
  else if (t?.thinking === "off") out.thinking = { type: "disabled" };
  return out;
}

type Gateway = { gateway: ModelGateway; url: string; socket: string | null; dir: string | null };

/** One agent conversation run by Claude Code; every send() is a fresh `query()` (see followUpPrompt). */
export class ClaudeCodeSession implements AgentSession {
  private turns = 0;
  private usage: Usage = { ...ZERO_USAGE };
  private cost = 0;
  private readonly meter: TurnMeter;
  private readonly children = new Set<ChildProcess>();
  private readonly reports: string[] = [];
  private task: string | null = null;
  private gateway: Promise<Gateway> | null = null;
  /** What the gateway saw answered, whoever asked, priced as it arrives. */
  private readonly gwSpend: GatewaySpend;
  private readonly log: Logger;

  constructor(
    private readonly o: ClaudeCodeRunnerOptions,
    private readonly s: SessionOptions,
  ) {
    this.meter = new TurnMeter(s.worktree);
    this.gwSpend = new GatewaySpend(o.pricing, o.model);
    this.log = o.logger.child({ runtime: "claude-code" });
  }

  totals(): SessionTotals {
    return { turns: this.turns, usage: this.usage, costUsd: this.cost };
  }

  touchedFiles(): string[] {
    return this.meter.touchedFiles();
  }

  /** Kills whatever is still running and closes the gateway, so nothing acts during commit and push. */
  async close(): Promise<void> {
    await killAll(this.children);
    const gw = await this.gateway?.catch(() => null);
    this.gateway = null;
    if (!gw) return;
    await gw.gateway.close();
    if (gw.dir) await rm(gw.dir, { recursive: true, force: true });
  }

  async send(message: string): Promise<RunOutcome> {
    const early = this.limitReached();
    if (early) return this.outcome(early, "");
    const prompt = this.task === null ? message : followUpPrompt({ task: this.task, reports: this.reports, files: this.touchedFiles(), message });
    this.task ??= message;
    const gw = await this.openGateway();
    const before = this.totals();
    const mark = this.gwSpend.metered.length;
    let end: Awaited<ReturnType<typeof runQuery>> | undefined;
    try {
      end = await runQuery({
        sdk: this.o.sdk,
        prompt,
        options: this.options(gw),
        meter: this.meter,
        children: this.children,
        signal: this.s.signal,
        drain: this.s.drain,
        onTurn: (t) => this.book(t),
        onCallStart: () => this.s.onCallStart?.(this.turns + 1),
      });
    } finally {
      // A run that failed still spent what the gateway relayed.
      await this.reconcile(end?.result ?? null, before, this.gwSpend.metered.slice(mark)).catch((err: unknown) =>
        this.log.warn({ err }, "could not book the gateway's metered calls"),
      );
    }
    if (end.finalText.trim()) this.reports.push(end.finalText);
    return this.outcome(end.stop, end.finalText);
  }

  private limitReached(): StopReason | null {
    if (this.s.signal.aborted) return "aborted";
    if (this.s.drain?.aborted) return "interrupted";
    if (this.turns >= this.s.limits.maxTurns) return "max-turns";
    if (this.spent() >= this.s.limits.budgetUsd) return "budget";
    return null;
  }

  /** What the job has spent: the booked turns, or the gateway's metered answers when those are more (a command of the agent's spending through it). */
  private spent(): number {
    return this.gwSpend.spent(this.cost);
  }

  private options(gw: Gateway): Omit<Options, "abortController"> {
    const sandboxed = this.s.jail.kind === "bubblewrap";
    const env = claudeCodeEnv({
      base: { ...this.o.commandEnv, ...this.s.env },
      home: this.s.jail.home,
      tmp: sandboxed ? "/tmp" : this.s.jail.tmp,
      gatewayUrl: gw.url,
      token: gw.gateway.token,
      commandTimeoutMs: this.o.commandTimeoutMs,
      maxOutputTokens: this.o.maxTokens,
      clientApp: this.o.clientApp,
    });
    return {
      cwd: this.s.worktree,
      pathToClaudeCodeExecutable: this.o.executable,
      model: this.o.model,
      tools: CLAUDE_CODE_TOOLS,
      allowedTools: CLAUDE_CODE_TOOLS,
      permissionMode: "dontAsk",
      // No user, project or local settings: a repository's .claude/settings.json could add hooks
      // or permissions of its own. Its CLAUDE.md is in the system prompt already (conventions).
      settingSources: [],
      persistSession: false,
      systemPrompt: { type: "preset", preset: "claude_code", append: `${this.s.system}\n${runtimeNote(this.s.worktree)}` },
      maxTurns: Math.max(1, this.s.limits.maxTurns - this.turns),
      maxBudgetUsd: Math.max(0, this.s.limits.budgetUsd - this.spent()),
      includePartialMessages: true,
      ...thinkingOptions(this.s.thinking),
      env,
      hooks: {
        PreToolUse: [{ hooks: [preToolUseGuard(this.s.worktree)] }],
        PostToolUse: [{ hooks: [limitsNoteHook(() => limitsNote(this.s.limits, this.turns, this.cost))] }],
      },
      spawnClaudeCodeProcess: spawnInJail({
        jail: this.s.jail,
        gatewaySocket: gw.socket,
        children: this.children,
        onStderr: (text) => this.log.debug({ stderr: text.slice(0, 2000) }, "claude stderr"),
      }),
    };
  }

  /** Books one model call to the session and the job (onTurn), priced like the built-in runner's. */
  private async book(t: MeteredTurn, extra?: string): Promise<StopReason | null> {
    const model = this.o.pricing.pricesOf(t.model) ? t.model : this.o.model;
    const costUsd = this.o.pricing.costOf(model, t.usage);
    // Calls outside Claude Code's own loop cost money but are not turns of the agent.
    if (!extra) this.turns += 1;
    const tools = extra ? [extra] : t.tools;
    this.usage = addUsage(this.usage, t.usage);
    this.cost += costUsd;
    await this.s.onTurn?.({ turn: this.turns, usage: t.usage, costUsd, tools });
    if (this.cost >= this.s.limits.budgetUsd) return "budget";
    if (this.turns >= this.s.limits.maxTurns && t.toolUse) return "max-turns";
    return null;
  }

  /**
   * Logs the SDK's own cost beside ours, and books what the gateway relayed but the stream did
   * not show (Claude Code's background calls, or a command of the agent's using the token), so the
   * ledger holds everything spent.
   */
  private async reconcile(r: SDKResultMessage | null, before: SessionTotals, metered: Array<{ model: string; usage: Usage }>): Promise<void> {
    this.log.info(
      { bookedUsd: this.cost - before.costUsd, sdkCostUsd: r?.total_cost_usd, turns: this.turns - before.turns, sdkTurns: r?.num_turns, subtype: r?.subtype },
      "claude-code run ended",
    );
    const seen = metered.reduce((a, m) => addUsage(a, m.usage), { ...ZERO_USAGE });
    const booked = this.usage;
    const unseen: Usage = {
      input: Math.max(0, seen.input - (booked.input - before.usage.input)),
      output: Math.max(0, seen.output - (booked.output - before.usage.output)),
      cacheWrite: Math.max(0, seen.cacheWrite - (booked.cacheWrite - before.usage.cacheWrite)),
      cacheRead: Math.max(0, seen.cacheRead - (booked.cacheRead - before.usage.cacheRead)),
    };
    if (!unseen.input && !unseen.output && !unseen.cacheWrite && !unseen.cacheRead) return;
    // Priced as the model that answered most: the gateway's calls are not matched one by one.
    const model = [...metered].sort((a, b) => b.usage.output - a.usage.output)[0]?.model ?? this.o.model;
    this.log.warn({ usage: unseen, model }, "model calls outside Claude Code's own turns went through the gateway; booking them");
    await this.book({ model, usage: unseen, tools: [], toolUse: false, text: "" }, "(model calls outside the agent loop)");
  }

  /** The job's model gateway: a Unix socket bridged into the jail, or loopback TCP without one. */
  private openGateway(): Promise<Gateway> {
    this.gateway ??= (async () => {
      const common = {
        apiKey: this.o.apiKey,
        upstream: this.o.upstream,
        logger: this.log,
        onUsage: (model: string, usage: Usage) => this.gwSpend.add(model, usage),
        // The job's budget holds for anyone with the token, not only for Claude Code's own loop:
        // metered answers count at once, not only when reconcile() books them after the run.
        admit: () => this.gwSpend.refusal(this.cost, this.s.limits.budgetUsd),
      };
      if (this.s.jail.kind !== "bubblewrap") {
        const gateway = await ModelGateway.start({ ...common, listen: { loopbackPort: 0 } });
        return { gateway, url: `http://127.0.0.1:${gateway.port}`, socket: null, dir: null };
      }
      // A short path: Unix socket paths are limited to 108 bytes.
      const dir = await mkdtemp(path.join(os.tmpdir(), "awf-gw-"));
      const socket = path.join(dir, "model.sock");
      const gateway = await ModelGateway.start({ ...common, listen: { socketPath: socket } });
      return { gateway, url: `http://127.0.0.1:${GATEWAY_PORT_INSIDE}`, socket, dir };
    })();
    return this.gateway;
  }

  private outcome(stop: StopReason, finalText: string): RunOutcome {
    return { stop, finalText, ...this.totals() };
  }
}
