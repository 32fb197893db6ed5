import { escapeData } from "../prompts.js";
import type { SessionLimits } from "../runner.js";

/**
 * What the service's system prompt needs to say differently under Claude Code: its tools and
 * paths differ from the built-in runner's (which the shared prompt describes).
 */
export function runtimeNote(worktree: string): string {
  return `
Runtime notes (Claude Code): the repository is checked out at ${worktree}, your working directory;
wherever the text above says /repo it means that directory. Your tools are Read, Write, Edit,
Bash, Glob and Grep; give Write and Edit absolute paths inside ${worktree}. Pushing, git remotes
and gh are denied: the service commits, pushes and opens the pull request after you finish.`;
}

/**
 * The prompt of a later send() (e.g. check failures). Each send is a fresh Claude Code session,
 * never a resumed transcript, so it carries the original task and what happened since.
 */
export function followUpPrompt(p: { task: string; reports: string[]; files: string[]; message: string }): string {
  const reports = p.reports
    .filter((r) => r.trim())
    .map((r, i) => `<report n="${i + 1}">\n${escapeData(r)}\n</report>`)
    .join("\n");
  return `${p.task}

You already worked on this task earlier in this session; everything you did is in the repository.
${p.files.length ? `Files you changed so far: ${p.files.join(", ")}.\n` : ""}${reports ? `What you reported when you stopped:\n${reports}\n` : ""}
Now:
${p.message}`;
}

/**
 * What is left of the run's turns and budget, told after every tool so the model can plan; near
 * the end it is asked to wrap up (the built-in runner says the same after every turn).
 */
export function limitsNote(limits: SessionLimits, turns: number, costUsd: number): string {
  const { maxTurns, budgetUsd } = limits;
  const turnsLeft = Math.max(0, maxTurns - turns);
  const usdLeft = Math.max(0, budgetUsd - costUsd);
  const perTurn = turns > 0 ? costUsd / turns : 0;
  const line = `[limits] ${turnsLeft} of ${maxTurns} turns and $${usdLeft.toFixed(2)} of $${budgetUsd.toFixed(2)} left.`;
  const nearEnd = turnsLeft <= 2 || usdLeft <= Math.max(budgetUsd * 0.1, perTurn * 2);
  return nearEnd
    ? `${line} You are about to run out: start nothing new. Leave the code in a consistent state and end now with your report, listing what is done and, under Open points, what is left.`
    : line;
}
