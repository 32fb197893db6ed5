import { UnrecoverableError } from "bullmq";
import type { Jail } from "../sandbox/sandbox.js";
import { type CheckResult, commandStop, runChecks } from "./checks.js";
import { checksFailedPrompt } from "./prompts.js";
import type { AgentSession, RunOutcome } from "./runner.js";

/**
 * The agent ended in a way no pull request may come of: a refusal, or a context that no
 * compaction could bring under the model's window. It is an UnrecoverableError because a retry sends the same issue to
 * the same model and ends the same way, at full cost again (and a refusal repeats by design).
 */
export class AgentStopError extends UnrecoverableError {
  constructor(
    message: string,
    readonly outcome: RunOutcome,
  ) {
    super(message);
  }
}

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
  /** The job's signal (a cancel): a running check is killed and the run ends as "aborted". */
  signal: AbortSignal;
  /** Worker shutdown: a running check is killed after a short grace and the run ends as "interrupted" (handed over). */
  drain?: AbortSignal;
  /** The job's sandbox, the same the agent's shell runs in. */
  jail: Jail;
  onChecks?: (phase: "start" | "done", result?: CheckResult) => void | Promise<void>;
}): Promise<GatedOutcome> {
  let outcome = await p.session.send(p.firstMessage);
  let checks: CheckResult | null = null;
  if (p.checkCommand) {
    for (let round = 0; outcome.stop === "done"; round++) {
      // A check is no part of the agent's turn, so a draining worker does not start one.
      if (p.drain?.aborted && !p.signal.aborted) {
        outcome = { ...outcome, stop: "interrupted" };
        break;
      }
      await p.onChecks?.("start");
      // A check may run for up to its timeout (minutes): a shutdown must not wait it out.
      const stop = commandStop(p.signal, p.drain);
      // The model waits for the check; its prompt cache should still be there when it resumes.
      const warm = p.session.keepWarm?.();
      const result = await runChecks({
        cwd: p.cwd,
        command: p.checkCommand,
        env: p.env,
        timeoutMs: p.checkTimeoutMs,
        signal: stop.signal,
        jail: p.jail,
      }).finally(() => {
        stop.dispose();
        warm?.stop();
      });
      if (result.interrupted) {
        // A killed check says nothing about the code, so it is not reported as a result; a
        // cancel wins over the drain, as a stopped run must push nothing.
        outcome = { ...outcome, stop: p.signal.aborted ? "aborted" : "interrupted" };
        break;
      }
      checks = result;
      await p.onChecks?.("done", checks);
      // A drain that came after a finished check needs no test here: the next send() ends at
      // once as "interrupted".
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
  const failure = failureNote(outcome);
  if (failure) throw new AgentStopError(failure, outcome);
  return { outcome, checks, limitNote: limitNote(outcome) };
}

// Said to the operator (task error and Linear comment): what happened, and what they can do.
function failureNote(o: RunOutcome): string | null {
  if (o.stop === "refusal")
    return (
      `The model declined to continue (stop_reason "refusal"${o.stopDetail ? `, ${o.stopDetail}` : ""}) after ${o.turns} turns; ` +
      "no pull request was opened and the job is not retried, as the same request is refused again. " +
      "Reword the issue and re-add the label, or do it by hand."
    );
  if (o.stop === "context-window")
    return (
      `The agent's conversation filled the model's context window after ${o.turns} turns, and compacting it could not make it fit (the issue and the last turn alone are too large); ` +
      "no pull request was opened and the job is not retried, as it would run into the same limit. " +
      "Split the issue into smaller ones, or choose a model with a larger context window (AGENT_MODEL), then re-add the label."
    );
  return null;
}

function limitNote(o: RunOutcome): string | null {
  if (o.stop === "max-turns")
    return `The agent stopped after reaching its limit of ${o.turns} turns (AGENT_MAX_TURNS); the work may be incomplete.`;
  if (o.stop === "budget")
    return `The agent stopped after spending its budget (AGENT_BUDGET_USD); the work may be incomplete.`;
  if (o.stop === "interrupted") return "The agent was interrupted by a worker shutdown; another worker resumes it.";
  return null;
}
