import { DelayedError, type Job, WaitingError } from "bullmq";
import type { Lease } from "../src/tasks/locks.js";
import type { Task } from "../src/tasks/task.js";
import { InterruptedError } from "./agent-pass.js";
import { recordFailure } from "./failures.js";
import { holdAgentGates } from "./gates.js";
import { upgradeJobData } from "./job-schema.js";
import { type TaskContext, taskContext, type WorkerDeps } from "./job-context.js";
import { holdIssue, leaveLine } from "./leases.js";
import { handOver } from "./waiting.js";

/** The repository whose agent slot a run takes. */
export interface SlotFor {
  /** owner/name */
  repo: string;
  maxAgents: number;
}

/** What a job has read and decided before its agent runs; `slot` names the gate it needs. */
export interface Prepared<P> {
  slot: SlotFor;
  plan: P;
}

/**
 * What one kind of agent job supplies; the skeleton in `agentJob` does the rest. Implement and
 * revise (and later triggers) differ only in these steps: which task, why not to start, what to
 * read before the run, and what to do with its result.
 */
export interface AgentJobSpec<D, P, R> {
  /** The task this job works on (created if need be), or null when there is nothing to do. */
  task(job: Job<D>): Promise<Task | null>;
  /** The result when the job starts nothing. */
  idle(c: TaskContext | null): R;
  /** Checked before the issue lock: a result means "do not start" (already said why). */
  refuse?(c: TaskContext, job: Job<D>): Promise<R | null>;
  /** Runs once the job will start, before the issue lock and any status write (e.g. opens the task's Linear session). */
  starting?(c: TaskContext, job: Job<D>): Promise<void>;
  /**
   * The slot to take before `prepare` when it is already known, so a job woken from waiting for
   * one takes it without reading anything remote first.
   */
  knownSlot?(c: TaskContext, job: Job<D>): SlotFor | null;
  /** Reads what the run needs (holding the issue lock); `{ done }` ends the job without an agent. */
  prepare(c: TaskContext, job: Job<D>): Promise<Prepared<P> | { done: R }>;
  /** Runs the agent and publishes its result (holding the issue lock and the slots). */
  run(c: TaskContext, job: Job<D>, plan: P): Promise<R>;
  /** Undoes what the job took for itself when it fails or is handed over (e.g. claimed feedback). */
  release?(c: TaskContext, job: Job<D>): Promise<void>;
  /** Shows a failure that ended the job where its kind of job shows status (e.g. the PR head). */
  ended?(c: TaskContext, before: Task): Promise<void>;
}

/**
 * The one run skeleton of every agent job: upgrade the job's data → ensure the task → refuse early
 * → hold the issue → take the budget, process and repository slots → prepare → run the agent
 * (which always commits and pushes what exists, see agent-pass) → publish → release; a shutdown
 * hands the job over, any other failure is recorded on the task and in Linear.
 */
export function agentJob<D, P, R>(deps: WorkerDeps, spec: AgentJobSpec<D, P, R>) {
  return async (job: Job<D>, token?: string, signal?: AbortSignal): Promise<R> => {
    // Data queued by an older release is read as this one's; a newer release's fails the job for good.
    try {
      upgradeJobData(job);
    } catch (err) {
      await failUnreadableJob(deps, job, err, signal);
      throw err;
    }
    const initial = await spec.task(job);
    if (!initial) return spec.idle(null);
    const c = taskContext(deps, job, initial.issueId, initial, signal);
    let sleeps = false;
    try {
      if (await deps.cancellation.stoppedSince(c.issueId, job.timestamp)) return spec.idle(c);
      const refused = await spec.refuse?.(c, job);
      if (refused !== undefined && refused !== null) return refused;
      await spec.starting?.(c, job);
      const issue = await holdIssue(c, { job, token });
      try {
        return await prepareAndRun(c, spec, job, token);
      } finally {
        await issue.release();
      }
    } catch (err) {
      sleeps = err instanceof DelayedError || err instanceof WaitingError;
      await spec.release?.(c, job).catch((e: unknown) => c.log.warn({ err: e }, "could not release what the job took"));
      if (err instanceof InterruptedError) await handOver(c, job, token);
      const before = c.task();
      const thrown = await recordFailure(c, job, err);
      if (!sleeps) await spec.ended?.(c, before).catch((e: unknown) => c.log.warn({ err: e }, "could not show how the job ended"));
      throw thrown;
    } finally {
      // A job that ends (not one put back to wait) leaves its repository's line at once, so the
      // next in line is woken now rather than by its safety-net timer.
      if (!sleeps) await leaveRepoLine(c, job);
      c.done();
    }
  };
}

/**
 * Job data this release cannot read (a newer release's, or malformed) that still names an issue:
 * the failure is recorded on that issue's task, when there is one, and shown in Linear like any
 * permanent failure, so it is not seen in the queue only.
 */
async function failUnreadableJob(deps: WorkerDeps, job: Job, err: unknown, signal: AbortSignal | undefined): Promise<void> {
  const data: unknown = job.data;
  const issueId = typeof data === "object" && data !== null ? (data as { issueId?: unknown }).issueId : undefined;
  if (typeof issueId !== "string" || issueId === "") return;
  const log = deps.logger.child({ jobId: job.id, queue: job.queueName, issueId });
  const task = await deps.tasks.get(issueId).catch((e: unknown) => {
    log.warn({ err: e }, "could not read the task of a job whose data this release cannot read");
    return null;
  });
  if (!task) return;
  const c = taskContext(deps, job, issueId, task, signal);
  try {
    await recordFailure(c, job, err);
  } finally {
    c.done();
  }
}

async function leaveRepoLine(c: TaskContext, job: Job): Promise<void> {
  const repo = c.task().repo;
  if (!repo) return;
  const full = `${repo.owner}/${repo.name}`;
  const { maxAgents } = c.deps.routing.repos[full.toLowerCase()] ?? c.deps.routing.defaults;
  await leaveLine(c.deps, job, full, maxAgents).catch((err: unknown) => c.log.warn({ err }, "could not leave the repository's line; the next job wakes by its timer"));
}

async function prepareAndRun<D, P, R>(c: TaskContext, spec: AgentJobSpec<D, P, R>, job: Job<D>, token: string | undefined): Promise<R> {
  const known = spec.knownSlot?.(c, job) ?? null;
  let gates: Lease | null = known ? await holdAgentGates(c, { job, token, ...known }) : null;
  try {
    const prepared = await spec.prepare(c, job);
    if ("done" in prepared) return prepared.done;
    // The slot taken early was for the repository the task named; routing may have changed it.
    if (!known || known.repo.toLowerCase() !== prepared.slot.repo.toLowerCase()) {
      await gates?.release();
      gates = null;
      gates = await holdAgentGates(c, { job, token, ...prepared.slot });
    }
    return await spec.run(c, job, prepared.plan);
  } finally {
    await gates?.release();
  }
}
