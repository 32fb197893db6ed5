// A claude-code runner on the Anthropic fake, in a real bubblewrap jail, for the runner's tests.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { loadClaudeCode } from "../../../src/agent/claude-code/load-sdk.js";
import { ClaudeCodeRunner } from "../../../src/agent/claude-code/runner.js";
import { Pricing } from "../../../src/agent/pricing.js";
import type { AgentSession, SessionLimits, TurnReport } from "../../../src/agent/runner.js";
import { type Sandbox, startSandbox } from "../../../src/sandbox/sandbox.js";
import { type AnthropicFake, startAnthropicFake } from "../../fakes/anthropic/index.js";

export const PATH = "/usr/local/bin:/usr/bin:/bin";
export const MODEL = "claude-sonnet-4-6";

export interface Harness {
  fake: AnthropicFake;
  sandbox: Sandbox;
  worktree: string;
  turns: TurnReport[];
  session: AgentSession;
  stop: AbortController;
  drain: AbortController;
  close(): Promise<void>;
}

/** A git worktree with one file, a jail around it (HOME and /tmp of its own) and a session of the runner. */
export async function startHarness(p: { limits?: SessionLimits; sandbox?: "bubblewrap" | "none" } = {}): Promise<Harness> {
  const fake = await startAnthropicFake({ minCacheableTokens: 200 });
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), "awf-cc-")));
  const [worktree, home, tmp] = ["wt", "home", "tmp"].map((d) => path.join(root, d)) as [string, string, string];
  await Promise.all([worktree, home, tmp].map((d) => mkdir(d)));
  execFileSync("git", ["init", "-q", "-b", "main", worktree]);
  const logger = pino({ level: "silent" });
  const sandbox = await startSandbox({ mode: p.sandbox ?? "bubblewrap", allowedDomains: [], path: PATH, hidden: [process.cwd()], logger });
  const jail = sandbox.jail({ worktree, home, tmp }, { PATH, LANG: "C.UTF-8", CI: "1" });
  const { sdk, executable } = await loadClaudeCode();
  const runner = new ClaudeCodeRunner({
    sdk,
    executable,
    model: MODEL,
    apiKey: fake.apiKey,
    upstream: fake.url,
    pricing: new Pricing(),
    commandEnv: { PATH, LANG: "C.UTF-8" },
    commandTimeoutMs: 20_000,
    maxTokens: 4096,
    logger,
    clientApp: "agent-workforce-test",
  });
  const turns: TurnReport[] = [];
  const stop = new AbortController();
  const drain = new AbortController();
  const session = runner.startSession({
    worktree,
    system: "You are a coding agent.",
    jail,
    limits: p.limits ?? { maxTurns: 10, budgetUsd: 5 },
    signal: stop.signal,
    drain: drain.signal,
    onTurn: (t) => void turns.push(t),
  });
  return {
    fake,
    sandbox,
    worktree,
    turns,
    session,
    stop,
    drain,
    async close() {
      await session.close();
      await sandbox.close();
      await fake.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A scripted Claude Code tool call. */
export const tool = (name: string, input: Record<string, unknown>) => ({ content: [{ type: "tool_use" as const, name, input }] });
/** A scripted final text turn. */
export const say = (text: string) => ({ content: [{ type: "text" as const, text }] });

/** The processes whose command line names `needle` (to prove none is left). */
export function processesMatching(needle: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" });
  return out.split("\n").filter((l) => l.includes(needle) && !l.includes("ps -eo"));
}
