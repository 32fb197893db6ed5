import type { Jail } from "../sandbox/sandbox.js";
import type { Usage } from "../tasks/task.js";
import type { ThinkingSettings } from "./thinking.js";

/**
 * Why a run of the agent ended. "refusal" (the model declined) and "context-window" (the context
 * outgrew the model's window and no compaction could help) end the run with nothing a pull
 * request should be made of.
 */
export type StopReason =
  | "done"
  | "max-turns"
  | "budget"
  | "aborted"
  | "interrupted"
  | "refusal"
  | "context-window";

/** What one model call cost; reported as it happens so status and budgets stay current. */
export interface TurnReport {
  /**
   * "turn": a turn of the agent's work. "compaction": the call that wrote a progress note when the
   * context filled up. "refresh": a call that kept the prompt cache warm while checks ran. Only
   * turns count against AGENT_MAX_TURNS; every call's cost counts against the budget.
   */
  kind?: "turn" | "compaction" | "refresh";
  turn: number;
  usage: Usage;
  costUsd: number;
  /** Tools the model called this turn, e.g. ["bash", "str_replace_based_edit_tool:create"]. */
  tools: string[];
}

/** Totals of a session so far. */
export interface SessionTotals {
  turns: number;
  usage: Usage;
  costUsd: number;
  /** How often the context was trimmed to stay under its threshold (built-in runner only). */
  context?: { clearings: number; compactions: number; clearedTokens: number };
}

export interface RunOutcome extends SessionTotals {
  stop: StopReason;
  /** The agent's last words (its report when it finished normally). */
  finalText: string;
  /** What the API said about a refusal (category and explanation), when it said anything. */
  stopDetail?: string;
}

/** Limits that apply to the whole session, across every message sent to it. */
export interface SessionLimits {
  maxTurns: number;
  budgetUsd: number;
}

export interface SessionOptions {
  /** The checked-out repository the agent works in. */
  worktree: string;
  system: string;
  /** Extra environment for the agent's commands (HOME of this job); never secrets. */
  env?: Record<string, string>;
  /** The job's sandbox: every command the agent runs goes through it (see src/sandbox/). */
  jail: Jail;
  limits: SessionLimits;
  /** The repository's thinking and effort (routing file); unset: the model's defaults. */
  thinking?: ThinkingSettings;
  /** Aborts at once (cancel): in-flight calls and commands stop. */
  signal: AbortSignal;
  /** Ends the run at the next turn boundary (worker shutdown): the current turn completes. */
  drain?: AbortSignal;
  onTurn?: (report: TurnReport) => void | Promise<void>;
  /** A model call starts (the dashboard shows a turn in progress until its onTurn). */
  onCallStart?: (turn: number) => void | Promise<void>;
}

/** A conversation with an agent in one worktree; `send` can be called again (e.g. check failures). */
export interface AgentSession {
  send(message: string): Promise<RunOutcome>;
  totals(): SessionTotals;
  /** Repository paths the agent created or edited through its editor tool. */
  touchedFiles(): string[];
  /**
   * Called while the service itself works between two sends (the checks, which may take minutes):
   * keeps the model's prompt cache warm until the handle is stopped. Optional for runners.
   */
  keepWarm?(): { stop(): void };
  close(): Promise<void>;
}

/**
 * The agent runtime behind a small interface, so another runner (an external CLI agent run in
 * the worktree) can be added without touching jobs.
 */
export interface AgentRunner {
  readonly name: string;
  startSession(opts: SessionOptions): AgentSession;
}
