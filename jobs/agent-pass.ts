import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { readConventions } from "../src/agent/conventions.js";
import { systemPrompt } from "../src/agent/prompts.js";
import { type GatedOutcome, runWithChecks } from "../src/agent/run-with-checks.js";
import { recordTurn } from "../src/metrics/cluster-counters.js";
import { throttle } from "../src/status/publish.js";
import { addUsage, type Landed, type Usage } from "../src/tasks/task.js";
import type { Worktree } from "../src/workspace/index.js";
import type { RepoSettings } from "../src/routing/routing-config.js";
import type { TaskContext } from "./job-context.js";

/** Seconds between progress-comment edits while an agent works: status stays live, API calls few. */
const PROGRESS_INTERVAL_MS = 15_000;

/** The pass stopped for a worker shutdown; its job should go back to the queue for another worker. */
export class InterruptedError extends Error {
  override name = "InterruptedError";
}

export interface PassResult {
  gated: GatedOutcome;
  /** Sha now on the remote branch, or null when the branch holds nothing ahead of its base. */
  pushedSha: string | null;
  /** Whether this pass committed anything. */
  committed: boolean;
  /** Turns, tokens and cost of this pass alone. */
  pass: { turns: number; usage: Usage; costUsd: number };
}

/**
 * One agent pass in a fresh worktree of the issue's branch: run the agent with the quality
 * gate, commit as the bot, push (never force). Task totals accumulate across passes. The
 * worktree and the job's HOME are removed when the pass ends, also on failure.
 */
export async function runAgentPass(
  c: TaskContext,
  p: {
    repo: RepoSettings;
    cloneUrl: string;
    branch: string;
    baseBranch: string;
    key: string;
    firstMessage: (worktree: Worktree) => Promise<string>;
    commitMessage: string;
  },
): Promise<PassResult> {
  const { deps, signal, log } = c;
  const { config } = deps;
  const worktree = await deps.workspace.createWorktree({
    repo: p.repo,
    cloneUrl: p.cloneUrl,
    token: config.github.token,
    key: p.key,
    branch: p.branch,
    baseBranch: p.baseBranch,
    signal,
  });
  const home = path.join(config.dataDir, "homes", p.key.replace(/[^A-Za-z0-9._-]/g, "_"));
  const tmp = path.join(home, ".tmp");
  await mkdir(tmp, { recursive: true });
  const env = { ...config.childEnv, CI: "1", GIT_TERMINAL_PROMPT: "0", GIT_EDITOR: "true" };
  // Every command of this job (the agent's shell and the checks) runs in this one jail.
  const jail = deps.sandbox.jail({ worktree: worktree.path, home, tmp, git: worktree.gitPaths }, env);
  const before = c.task();
  const base = { turns: before.turns, usage: before.usage, costUsd: before.costUsd };
  const progress = throttle(PROGRESS_INTERVAL_MS, () => c.publish(), deps.progressEdits);
  // AGENT_BUDGET_USD is per job: a retry or a hand-over to another worker gets what is left of it,
  // not a fresh budget (p.key is the job's id).
  const spent = await deps.spend.job(p.key);
  if (spent > 0) log.info({ spentUsd: spent, budgetUsd: config.agent.budgetUsd }, "job resumes with what is left of its budget");
  const session = deps.clients.runner.startSession({
    worktree: worktree.path,
    system: systemPrompt({
      repo: `${p.repo.owner}/${p.repo.name}`,
      branch: p.branch,
      checkCommand: p.repo.checkCommand,
      conventions: await readConventions(worktree.path),
    }),
    env,
    jail,
    limits: { maxTurns: config.agent.maxTurns, budgetUsd: Math.max(0, config.agent.budgetUsd - spent) },
    signal,
    drain: deps.draining.signal,
    onTurn: async (t) => {
      const s = session.totals();
      log.info({ turn: t.turn, usage: t.usage, costUsd: t.costUsd, tools: t.tools }, "agent turn");
      await deps.spend.add(t.costUsd, new Date(), p.key);
      await recordTurn(deps.redis, config.redisPrefix, t.usage, t.costUsd);
      await c.save({
        turns: base.turns + s.turns,
        usage: addUsage(base.usage, s.usage),
        costUsd: base.costUsd + s.costUsd,
        step: `turn ${t.turn}${t.tools.length ? `: ${t.tools.join(", ")}` : ""}`,
      });
      progress.poke();
    },
  });

  try {
    const gated = await runWithChecks({
      session,
      firstMessage: await p.firstMessage(worktree),
      checkCommand: p.repo.checkCommand,
      rounds: config.agent.checkRounds,
      cwd: worktree.path,
      env,
      checkTimeoutMs: config.agent.checkTimeoutMs,
      signal,
      drain: deps.draining.signal,
      jail,
      onChecks: async (phase, result) => {
        if (phase === "start") await c.save({ step: `running \`${p.repo.checkCommand}\`` });
        else if (result) {
          const summary = result.passed ? "passed" : result.timedOut ? "timed out" : `failed (exit ${result.exitCode})`;
          await c.save({ step: null, checks: { command: result.command, passed: result.passed, summary } });
        }
        await c.publish();
      },
    });
    // End the agent's shell (and whatever it left running in the background) before the worker
    // runs git with the token here: nothing of the agent's may still act during commit and push.
    await session.close();
    await progress.flush();
    if (gated.outcome.stop === "aborted" || signal.aborted) throw new Error("the run was stopped");
    const interrupted = gated.outcome.stop === "interrupted";
    const s = session.totals();
    await c.save({ turns: base.turns + s.turns, usage: addUsage(base.usage, s.usage), costUsd: base.costUsd + s.costUsd });

    const sha = await worktree.commitAll({
      message: interrupted ? `WIP: ${p.commitMessage.split("\n")[0]} (interrupted by a worker shutdown)` : p.commitMessage,
      author: { name: config.agent.gitName, email: config.agent.gitEmail },
      signal,
    });
    const ahead = (await worktree.commitsAhead()).length;
    let pushedSha: string | null = null;
    // A branch with nothing ahead of its base would make an empty PR: leave it to the caller.
    if (ahead > 0) {
      if (signal.aborted) throw new Error("the run was stopped");
      await c.save({ step: "pushing the branch" });
      pushedSha = (await worktree.push({ token: config.github.token, signal })).sha;
      log.info({ sha: pushedSha }, "branch pushed");
    }
    if (interrupted) {
      await c.save({
        handoff: [
          "Interrupted by a worker shutdown; the work so far is committed on the branch.",
          gated.outcome.finalText && `Last words before the interruption:\n${gated.outcome.finalText}`,
        ]
          .filter(Boolean)
          .join("\n\n"),
      });
      throw new InterruptedError(`interrupted by a worker shutdown after ${s.turns} turns; the work so far is pushed`);
    }
    return { gated, pushedSha, committed: sha !== null, pass: s };
  } finally {
    await session.close();
    await worktree.remove();
    await rm(home, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * The checkpoint a pass leaves on the task once its work is on the remote (`sha`): a retry of the
 * same job resumes from it instead of running the agent again (see Task.landed).
 */
export function checkpointOf(jobId: string, result: PassResult, sha: string): Landed {
  const { gated } = result;
  const checks = gated.checks;
  return {
    jobId,
    sha,
    summary: gated.outcome.finalText,
    limitNote: gated.limitNote,
    checks: checks ? { command: checks.command, passed: checks.passed, output: checks.passed ? null : checks.output.slice(-4000) } : null,
  };
}
