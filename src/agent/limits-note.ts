import { LIMITS_NOTE_PREFIX } from "./context-manager.js";
import type { SessionLimits } from "./runner.js";

/**
 * What is left of the run's turns and budget, told to the model after every turn (built-in loop)
 * or tool (Claude Code) so it can plan; near the end it is asked to wrap up, so the run ends with a
 * report saying what is unfinished rather than being cut off mid-change.
 */
export function limitsNote(limits: SessionLimits, turns: number, costUsd: number): string {
  const { maxTurns, budgetUsd } = limits;
  const turnsLeft = Math.max(0, maxTurns - turns);
  const usdLeft = Math.max(0, budgetUsd - costUsd);
  const perTurn = turns > 0 ? costUsd / turns : 0;
  const line = `${LIMITS_NOTE_PREFIX} ${turnsLeft} of ${maxTurns} turns and $${usdLeft.toFixed(2)} of $${budgetUsd.toFixed(2)} left.`;
  const nearEnd = turnsLeft <= 2 || usdLeft <= Math.max(budgetUsd * 0.1, perTurn * 2);
  return nearEnd
    ? `${line} You are about to run out: start nothing new. Leave the code in a consistent state and end now with your report, listing what is done and, under Open points, what is left.`
    : line;
}
