import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { readConventions } from "../src/agent/conventions.js";
import { systemPrompt } from "../src/agent/prompts.js";
import { type GatedOutcome, runWithChecks } from "../src/agent/run-with-checks.js";
import type { AgentSession, SessionTotals } from "../src/agent/runner.js";
import { flushCounters, recordTurn } from "../src/metrics/cluster-counters.js";
import type { RepoSettings } from "../src/routing/routing-config.js";
import type { Jail } from "../src/sandbox/sandbox.js";
import { throttle } from "../src/status/publish.js";
import { addUsage, type Landed, type Task, type TaskState, type Usage } from "../src/tasks/task.js";
import type { Worktree } from "../src/workspace/index.js";
import type { TaskContext } from "./job-context.js";
import { keepWork } from "./keep-work.js";
import { treeBudgetLeft } from "./tree/tree-budget.js";

/** Seconds between progress-comment edits while an agent works: status stays live, API calls few. */
const PROGRESS_INTERVAL_MS = 15_000;
/** The interval doubles after every 4 edits, up to 5 minutes (the dashboard stays live throughout). */
const PROGRESS_BACKOFF = { doubleEvery: 4, maxMs: 300_000 };
/**
 * A model call is shown in flight ("turn in progress") once it has lasted this long: a shorter
 * call ends before anyone could watch it tick, and marking it would cost a second task write per
 * turn. The mark carries the call's real start, so the dashboard's clock is right when it shows.
 */
const CALL_SHOWN_AFTER_MS = 2_000;

/** The pass stopped for a worker shutdown; its job should go back to the queue for another worker. */
export class InterruptedError extends Error {
  override name = "InterruptedError";
}

export interface PassResult {
  gated: GatedOutcome;
  /** Sha now on the remote branch, or null when the branch holds nothing ahead of its base. */
  pushedSha: string | null;
  /** The commit holding the work when its push was refused (kept on the worker), with why. */
  unpushed: { sha: string; error: Error } | null;
  /** Whether this pass committed anything. */
  committed: boolean;
  /** Files the branch changed that the checks depend on (see checkInputsTouched). */
  checkInputs: string[];
  /** Turns, tokens and cost of this pass alone. */
  pass: { turns: number; usage: Usage; costUsd: number };
}

/** What one pass runs: where, from which branch, and how it starts and commits. */
export interface PassSpec {
  repo: RepoSettings;
  cloneUrl: string;
  branch: string;
  baseBranch: string;
  key: string;
  firstMessage: (worktree: Worktree) => Promise<string>;
  commitMessage: string;
  /** The job's checkpoint of finished work at a commit (see keepWork). */
  checkpoint?: (result: PassResult, sha: string) => Landed;
}

/** How the agent's run ended: its outcome, or the error that ended it early. */
export type RunEnd = { gated: GatedOutcome; failure: null } | { gated: GatedOutcome | null; failure: unknown };

/**
 * One agent pass in a fresh worktree of the issue's branch: run the agent with the quality gate,
 * then — on every exit path but a stop — commit what exists and push it (never force), so no
 * failure throws work away (see keep-work). The worktree and the job's HOME are removed when the
 * pass ends; commits that could not be pushed stay in the mirror for the next run.
 */
export async function runAgentPass(c: TaskContext, p: PassSpec): Promise<PassResult> {
  const { deps, signal } = c;
  const worktree = await deps.workspace.createWorktree({ ...p, token: await deps.clients.github.gitToken({ owner: p.repo.owner, repo: p.repo.name }, { signal }), signal, resumeFrom: c.task().unpushedSha ?? null });
  const dirName = p.key.replace(/[^A-Za-z0-9._-]/g, "_");
  const home = path.join(deps.config.dataDir, "homes", dirName);
  // Not inside home: the agent could swap a directory it can write for a symlink to anywhere,
  // and the next sandbox would mount that at /tmp.
  const tmp = path.join(deps.config.dataDir, "tmp", dirName);
  try {
    await Promise.all([mkdir(home, { recursive: true }), mkdir(tmp, { recursive: true })]);
    const env = { ...deps.config.childEnv, CI: "1", GIT_TERMINAL_PROMPT: "0", GIT_EDITOR: "true" };
    // Every command of this job (the agent's shell and the checks) runs in this one jail.
    const jail = deps.sandbox.jail({ worktree: worktree.path, home, tmp, git: worktree.gitPaths }, env);
    const before = c.task();
    const run = await runAgent(c, p, worktree, jail);
    const pass = totalsSince(before, c.task());
    return await keepWork(c, { worktree, repo: p.repo, run, pass, branch: p.branch, commitMessage: p.commitMessage, checkpoint: p.checkpoint, checkCommand: p.repo.checkCommand });
  } finally {
    await worktree.remove();
    await Promise.all([home, tmp].map((d) => rm(d, { recursive: true, force: true }).catch(() => undefined)));
  }
}

/** Runs the agent and the checks; an error is returned with whatever outcome there was, not thrown. */
async function runAgent(c: TaskContext, p: PassSpec, worktree: Worktree, jail: Jail): Promise<RunEnd> {
  const { deps, signal, log } = c;
  const { config } = deps;
  const before = c.task();
  const agentState: TaskState = before.state === "revising" ? "revising" : "working";
  const progress = throttle(PROGRESS_INTERVAL_MS, () => c.publish(), deps.progressEdits, PROGRESS_BACKOFF);
  // Checks of an earlier attempt say nothing about this one.
  if (before.checks) await c.save({ checks: null });
  const inFlight = callMark(c);
  const session = await startSession(c, p, worktree, jail, inFlight, () => progress.poke());
  let end: RunEnd;
  try {
    const gated = await runWithChecks({
      session,
      firstMessage: await p.firstMessage(worktree),
      checkCommand: p.repo.checkCommand,
      rounds: config.agent.checkRounds,
      cwd: worktree.path,
      env: {},
      checkTimeoutMs: config.agent.checkTimeoutMs,
      signal,
      drain: deps.draining.signal,
      jail,
      onChecks: async (phase, result) => {
        if (phase === "start") await c.save({ state: "checking", step: `running \`${p.repo.checkCommand}\`` });
        else if (result) {
          const summary = result.passed ? "passed" : result.timedOut ? "timed out" : `failed (exit ${result.exitCode})`;
          await c.save({ state: agentState, step: null, checks: { command: result.command, passed: result.passed, summary } });
        }
        await c.publish();
      },
    });
    end = { gated, failure: null };
  } catch (err) {
    end = { gated: null, failure: err };
  } finally {
    // End the agent's shell (and whatever it left running in the background) before the worker
    // runs git with the token here: nothing of the agent's may still act during commit and push.
    await session.close();
    // A call cut short by a stop or an error must not be marked in flight after the save below.
    await inFlight.settle();
  }
  // The workforce totals of this pass reach Redis with its end, not up to a flush interval later.
  await flushCounters(deps.workerRedis, config.redisPrefix).catch((err: unknown) => log.warn({ err }, "could not send the workforce counters"));
  await progress.flush().catch((err: unknown) => log.warn({ err }, "could not publish the last progress"));
  const s = session.totals();
  // A run that ended inside a check still shows "checking"; anything else (a stop) stays as it is.
  const state = c.task().state === "checking" ? { state: agentState } : {};
  await c.save({
    ...state,
    turns: before.turns + s.turns,
    usage: addUsage(before.usage, s.usage),
    costUsd: before.costUsd + s.costUsd,
    ...(s.context ? { context: addContext(before.context, s.context) } : {}),
    turnStartedAt: null,
  });
  return end;
}

/**
 * Opens the agent's session with what is left of the job's budget; every turn is booked to the
 * job, the day and the task as it happens, so status and budgets stay current.
 */
async function startSession(c: TaskContext, p: PassSpec, worktree: Worktree, jail: Jail, inFlight: CallMark, onProgress: () => void): Promise<AgentSession> {
  const { deps, signal, log } = c;
  const { config } = deps;
  const before = c.task();
  // AGENT_BUDGET_USD is per job: a retry or a hand-over to another worker gets what is left of it,
  // not a fresh budget (p.key is the job's id).
  const spent = await deps.spend.job(p.key);
  if (spent > 0) log.info({ spentUsd: spent, budgetUsd: config.agent.budgetUsd }, "job resumes with what is left of its budget");
  // A sub-issue also shares its tree's budget with its siblings and the manager.
  const treeLeft = await treeBudgetLeft(deps, before);
  const budgetUsd = Math.max(0, Math.min(config.agent.budgetUsd - spent, treeLeft ?? Infinity));
  if (treeLeft !== null) log.info({ treeLeftUsd: treeLeft, budgetUsd }, "sub-issue session capped by what its tree has left");
  const session = deps.clients.runner.startSession({
    worktree: worktree.path,
    system: systemPrompt({
      repo: `${p.repo.owner}/${p.repo.name}`,
      branch: p.branch,
      checkCommand: p.repo.checkCommand,
      conventions: await readConventions(worktree.path),
    }),
    jail,
    limits: { maxTurns: config.agent.maxTurns, budgetUsd },
    thinking: { thinking: p.repo.thinking, effort: p.repo.effort },
    signal,
    drain: deps.draining.signal,
    onCallStart: () => inFlight.start(),
    onTurn: async (t) => {
      const s = session.totals();
      const kind = t.kind ?? "turn";
      log.info({ kind, turn: t.turn, usage: t.usage, costUsd: t.costUsd, tools: t.tools, context: s.context }, kind === "turn" ? "agent turn" : `agent ${kind} call`);
      await deps.spend.add(t.costUsd, new Date(), p.key);
      await recordTurn(deps.workerRedis, config.redisPrefix, t.usage, t.costUsd);
      await inFlight.settle();
      await c.save({
        turns: before.turns + s.turns,
        usage: addUsage(before.usage, s.usage),
        costUsd: before.costUsd + s.costUsd,
        ...(s.context ? { context: addContext(before.context, s.context) } : {}),
        ...(kind === "turn" ? { turnStartedAt: null, step: `turn ${t.turn}${t.tools.length ? `: ${t.tools.join(", ")}` : ""}` } : {}),
        ...(kind === "compaction" ? { step: "compacted its context into a progress note" } : {}),
      });
      onProgress();
    },
  });
  return session;
}

/** Marks the task's model call in flight once it outlasts CALL_SHOWN_AFTER_MS (see there). */
interface CallMark {
  /** A model call starts now. */
  start(): void;
  /** The call ended: a mark not written yet never will be; one being written has landed. */
  settle(): Promise<void>;
}

function callMark(c: TaskContext): CallMark {
  let timer: NodeJS.Timeout | null = null;
  let written: Promise<unknown> = Promise.resolve();
  const cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return {
    start() {
      cancel();
      const startedAt = new Date().toISOString();
      // Never awaited by the call: the model must not wait for Redis (a blip would hold the agent
      // up); settle() waits for it, so "in progress" never lands after the turn that ended it.
      timer = setTimeout(() => {
        timer = null;
        written = c.save({ turnStartedAt: startedAt }).catch((err: unknown) => c.log.warn({ err }, "could not record the model call in flight"));
      }, CALL_SHOWN_AFTER_MS);
    },
    async settle() {
      cancel();
      await written;
    },
  };
}

/** The task's context counts after this session's: runs add up over the task's life. */
function addContext(before: Task["context"], s: NonNullable<SessionTotals["context"]>): NonNullable<Task["context"]> {
  return {
    clearings: (before?.clearings ?? 0) + s.clearings,
    compactions: (before?.compactions ?? 0) + s.compactions,
    clearedTokens: (before?.clearedTokens ?? 0) + s.clearedTokens,
  };
}

function totalsSince(before: { turns: number; usage: Usage; costUsd: number }, after: { turns: number; usage: Usage; costUsd: number }) {
  return {
    turns: after.turns - before.turns,
    usage: {
      input: after.usage.input - before.usage.input,
      output: after.usage.output - before.usage.output,
      cacheWrite: after.usage.cacheWrite - before.usage.cacheWrite,
      cacheRead: after.usage.cacheRead - before.usage.cacheRead,
    },
    costUsd: after.costUsd - before.costUsd,
  };
}

/**
 * The checkpoint a pass leaves on the task once its work is committed (`sha`): a retry of the
 * same job, or the next one, resumes from it instead of running the agent again (see Task.landed).
 */
export function checkpointOf(jobId: string, result: PassResult, sha: string): Landed {
  const { gated } = result;
  const checks = gated.checks;
  return {
    jobId,
    sha,
    summary: gated.outcome.finalText,
    limitNote: gated.limitNote,
    ...(result.unpushed ? { pushed: false } : {}),
    ...(result.checkInputs.length ? { checkInputs: result.checkInputs } : {}),
    checks: checks ? { command: checks.command, passed: checks.passed, output: checks.passed ? null : checks.output.slice(-4000) } : null,
  };
}
