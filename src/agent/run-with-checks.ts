import { type CheckResult, runChecks } from "./checks.js";
import { checksFailedPrompt } from "./prompts.js";
import type { AgentSession, RunOutcome } from "./runner.js";

export interface GatedOutcome {
  outcome: RunOutcome;
  /** Result of the last check run; null when the repository has no check command or none ran. */
  checks: CheckResult | null;
  /** Human note when a limit cut the work short. */
  limitNote: string | null;
}

/**
 * Sends the first message, then runs the repository's checks after the agent finishes and feeds
 * failures back for up to `rounds` more attempts (the quality gate).
 */
export async function runWithChecks(p: {
  session: AgentSession;
  firstMessage: string;
  checkCommand: string | undefined;
  rounds: number;
  cwd: string;
  env: Record<string, string>;
  checkTimeoutMs: number;
  signal: AbortSignal;
  sandbox?: readonly string[] | null;
  onChecks?: (phase: "start" | "done", result?: CheckResult) => void | Promise<void>;
}): Promise<GatedOutcome> {
  let outcome = await p.session.send(p.firstMessage);
  let checks: CheckResult | null = null;
  if (p.checkCommand) {
    for (let round = 0; outcome.stop === "done"; round++) {
      await p.onChecks?.("start");
      checks = await runChecks({
        cwd: p.cwd,
        command: p.checkCommand,
        env: p.env,
        timeoutMs: p.checkTimeoutMs,
        signal: p.signal,
        sandbox: p.sandbox ?? undefined,
      });
      await p.onChecks?.("done", checks);
      if (checks.passed || round >= p.rounds || p.signal.aborted) break;
      outcome = await p.session.send(
        checksFailedPrompt({
          command: p.checkCommand,
          output: checks.output,
          round: round + 1,
          rounds: p.rounds,
        }),
      );
    }
  }
  return { outcome, checks, limitNote: limitNote(outcome) };
}

function limitNote(o: RunOutcome): string | null {
  if (o.stop === "max-turns")
    return `The agent stopped after reaching its limit of ${o.turns} turns (AGENT_MAX_TURNS); the work may be incomplete.`;
  if (o.stop === "budget")
    return `The agent stopped after spending its budget (AGENT_BUDGET_USD); the work may be incomplete.`;
  if (o.stop === "interrupted") return "The agent was interrupted by a worker shutdown; another worker resumes it.";
  return null;
}
