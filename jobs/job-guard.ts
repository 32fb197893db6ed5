import { DelayedError, type Job, WaitingError } from "bullmq";
import type { Deps } from "../src/deps.js";
import type { Lease, LeaseLostError } from "../src/tasks/locks.js";
import { logUnrecorded } from "./failures.js";
import type { TaskContext } from "./job-context.js";

/** How long a job that must wait sleeps before it looks again. */
const RECHECK_MS = 2_000;

/** Puts the job back as delayed (not a failed attempt) and leaves the processor. */
export async function waitAndRetry(job: Job, token: string | undefined, ms = RECHECK_MS): Promise<never> {
  await job.moveToDelayed(Date.now() + ms, token);
  throw new DelayedError();
}

/**
 * Records why a job waits on its task and the Linear comment, only when the reason changes, so
 * a waiting job does not spend the Linear request budget every few seconds.
 */
async function noteWaiting(c: TaskContext, step: string): Promise<void> {
  const task = c.task();
  if (task.step === step) return;
  await c.save({ state: task.state === "pr-open" || task.state === "revising" ? task.state : "queued", step });
  await c.publish().catch((err: unknown) => c.log.warn({ err }, "could not show the waiting reason on Linear"));
}

/**
 * A lease that ran out mid-run (e.g. a Redis outage longer than its lifetime) may already be
 * another worker's: the run stops before it pushes anything more, and the job is retried.
 */
function stopOnLoss(c: TaskContext): (err: LeaseLostError) => void {
  return (err) => {
    c.log.warn({ err }, "lost a lease while running; stopping the run to retry it later");
    c.abort(err);
  };
}

/** One agent per issue, across processes: takes the lock or delays the job. */
export async function holdIssue(c: TaskContext, p: { job: Job; token: string | undefined }): Promise<Lease> {
  const lease = await c.deps.limits.lockIssue(c.issueId, String(p.job.id), stopOnLoss(c));
  if (lease) return lease;
  await noteWaiting(c, "waiting: another agent run for this issue is in progress");
  return waitAndRetry(p.job, p.token);
}

/** At most `maxAgents` per repository, across processes: takes a slot or delays the job. */
export async function holdRepoSlot(
  c: TaskContext,
  p: { job: Job; token: string | undefined; repo: string; maxAgents: number },
): Promise<Lease> {
  const { deps } = c;
  const lease = await deps.limits.acquireRepoSlot(p.repo, String(p.job.id), p.maxAgents, stopOnLoss(c));
  if (lease) return lease;
  const waiting = (await deps.tasks.list(500))
    .filter((t) => t.state === "queued" && t.repo && `${t.repo.owner}/${t.repo.name}`.toLowerCase() === p.repo.toLowerCase())
    .sort((a, b) => (a.startedAt ?? a.createdAt).localeCompare(b.startedAt ?? b.createdAt));
  const self = waiting.findIndex((t) => t.issueId === c.issueId);
  const position = self === -1 ? waiting.length + 1 : self + 1;
  await noteWaiting(
    c,
    `waiting: ${p.repo} already has ${p.maxAgents} agent${p.maxAgents === 1 ? "" : "s"} at work (its limit); position ${position} in line`,
  );
  return waitAndRetry(p.job, p.token);
}

/** Once today's spend reaches AGENT_DAILY_BUDGET_USD, agent jobs wait for the next UTC day. */
export async function checkDailyBudget(c: TaskContext, p: { job: Job; token: string | undefined }): Promise<void> {
  const budget = c.deps.config.agent.dailyBudgetUsd;
  if (budget === undefined) return;
  const spent = await c.deps.spend.day();
  if (spent < budget) return;
  const now = new Date();
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  await noteWaiting(c, `waiting: today's agent budget is spent ($${spent.toFixed(2)} of AGENT_DAILY_BUDGET_USD $${budget}); resumes after midnight UTC`);
  await waitAndRetry(p.job, p.token, Math.min(midnight - now.getTime() + 1000, 10 * 60_000));
}

/** AGENT_CONCURRENCY per worker process, whichever queue the agent job came from. */
export async function holdLocalSlot(deps: Deps, p: { job: Job; token: string | undefined }): Promise<Lease> {
  const release = deps.agentSlots.tryAcquire();
  if (!release) return waitAndRetry(p.job, p.token);
  return { release: async () => release() };
}

/**
 * Gives the job back to the queue after a worker shutdown interrupted it (its work is pushed and
 * its hand-off note saved), so another worker resumes it; not counted as a failed attempt.
 */
export async function handOver(c: TaskContext, job: Job, token: string | undefined): Promise<never> {
  const state = c.task().state === "revising" ? "pr-open" : "queued";
  await c.save({ state, step: "interrupted by a worker shutdown; another worker resumes it" }).catch((err: unknown) => logUnrecorded(c, err, "the hand-over"));
  await c.publish(true).catch((err: unknown) => logUnrecorded(c, err, "the hand-over"));
  await job.moveToWait(token);
  throw new WaitingError();
}

/**
 * Everything an agent run must pass before it starts: the daily budget, a slot of this process
 * (AGENT_CONCURRENCY) and a slot of the repository (its maxAgents). One lease releases both.
 */
export async function holdAgentGates(
  c: TaskContext,
  p: { job: Job; token: string | undefined; repo: string; maxAgents: number },
): Promise<Lease> {
  await checkDailyBudget(c, p);
  const local = await holdLocalSlot(c.deps, p);
  try {
    const slot = await holdRepoSlot(c, p);
    return {
      async release() {
        await slot.release();
        await local.release();
      },
    };
  } catch (err) {
    await local.release();
    throw err;
  }
}
