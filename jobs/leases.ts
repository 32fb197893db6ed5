import type { Job } from "bullmq";
import type { Deps } from "../src/deps.js";
import type { Logger } from "../src/logger.js";
import type { Lease, LeaseLostError, LineEntry } from "../src/tasks/locks.js";
import type { TaskContext } from "./job-context.js";
import { departed, lineEntry, noteWaiting, sleepUntilWoken, wakeJob } from "./waiting.js";

type WakeDeps = Pick<Deps, "queues" | "limits">;

/** How many jobs behind are woken to show their new place when the line moves up. */
const MOVED_UP_WAKES = 10;

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

/**
 * The lease, releasing which also wakes whoever waits for it. A failed wake is only logged: the
 * waiting jobs' safety net brings them back, and a release must never fail the run.
 */
function wakingOnRelease(lease: Lease, log: Logger, wake: () => Promise<unknown>): Lease {
  return {
    async release() {
      await lease.release();
      await wake().catch((err: unknown) => log.warn({ err }, "could not wake the jobs waiting for a released lease"));
    },
  };
}

/** One agent per issue, across processes: takes the lock or puts the job to sleep until it is free. */
export async function holdIssue(c: TaskContext, p: { job: Job; token: string | undefined }): Promise<Lease> {
  const { limits } = c.deps;
  const self = lineEntry(p.job);
  const lease = await limits.lockIssue(c.issueId, self.jobId, stopOnLoss(c), self);
  if (lease) return wakingOnRelease(lease, c.log, () => wakeIssueWaiters(c.deps, c.issueId));
  await noteWaiting(c, "waiting: another agent run for this issue is in progress");
  return sleepUntilWoken(p.job, p.token, () => limits.takeWake(self));
}

/** Wakes every job that was refused the issue's lock; the first to look takes it, the others sleep again. */
export async function wakeIssueWaiters(deps: WakeDeps, issueId: string): Promise<void> {
  for (const entry of await deps.limits.takeIssueWaiters(issueId)) await wakeJob(deps, entry);
}

/**
 * At most `maxAgents` per repository, across processes, first come first served: takes a slot
 * in turn, or records the job's position in line and puts it to sleep until a slot is its own.
 */
export async function holdRepoSlot(
  c: TaskContext,
  p: { job: Job; token: string | undefined; repo: string; maxAgents: number },
): Promise<Lease> {
  const { deps } = c;
  const self = { ...lineEntry(p.job), arrivedAt: p.job.timestamp };
  let answer = await deps.limits.takeRepoSlot(p.repo, self, p.maxAgents, stopOnLoss(c));
  // Entries of jobs that ended or were removed must not hold the line: drop them, look again.
  if (!answer.lease && (await dropDeparted(deps, p.repo, answer.ahead)) > 0) {
    answer = await deps.limits.takeRepoSlot(p.repo, self, p.maxAgents, stopOnLoss(c));
  }
  if (answer.lease) {
    // Those behind moved up: the first of them look again to say so, as their place is shown in
    // Linear; places further back are brought up to date by their safety net.
    if (answer.leftLine) await wakeFirst(deps, p.repo, MOVED_UP_WAKES).catch((err: unknown) => c.log.warn({ err }, "could not tell the jobs in line that they moved up"));
    return wakingOnRelease(answer.lease, c.log, () => wakeRepoLine(deps, p.repo, p.maxAgents));
  }
  const agents = `${p.maxAgents} agent${p.maxAgents === 1 ? "" : "s"}`;
  await noteWaiting(c, `waiting: ${p.repo} already has ${agents} at work (its limit); position ${answer.position} in line`);
  return sleepUntilWoken(p.job, p.token, () => deps.limits.takeWake(self));
}

/** Takes the departed among `entries` out of the repository's line; returns how many. */
async function dropDeparted(deps: WakeDeps, repo: string, entries: LineEntry[]): Promise<number> {
  const gone = (await Promise.all(entries.map(async (e) => ((await departed(deps, e)) ? e : null)))).filter((e) => e !== null);
  for (const e of gone) await deps.limits.leaveRepoLine(repo, e);
  return gone.length;
}

/**
 * Wakes the first jobs in the repository's line, as many as there are free slots: only those can
 * take one, so the rest sleep on.
 */
export async function wakeRepoLine(deps: WakeDeps, repo: string, maxAgents: number): Promise<void> {
  await wakeFirst(deps, repo, maxAgents - (await deps.limits.repoSlotsInUse(repo)));
}

/** Wakes the first `n` live jobs of the line, dropping departed entries on the way. */
async function wakeFirst(deps: WakeDeps, repo: string, n: number): Promise<void> {
  let left = n;
  if (left <= 0) return;
  for (const entry of await deps.limits.repoLine(repo)) {
    if (await departed(deps, entry)) {
      await deps.limits.leaveRepoLine(repo, entry);
      continue;
    }
    await wakeJob(deps, entry);
    left -= 1;
    if (left <= 0) return;
  }
}

/**
 * Takes a job that ends without its slot (stopped, finished early, failed, removed from the queue)
 * out of the repository's line, and wakes whoever can take the slot it no longer waits for.
 * Without this its entry is dropped at the next look of a job behind it (at the latest, that
 * job's safety net).
 */
export async function leaveLine(deps: WakeDeps, job: Pick<Job, "queueName" | "id">, repo: string, maxAgents: number): Promise<void> {
  await deps.limits.leaveRepoLine(repo, { queue: job.queueName, jobId: String(job.id) });
  await wakeRepoLine(deps, repo, maxAgents);
}
