import type { Job } from "bullmq";
import type { Lease, LeaseLostError } from "../src/tasks/locks.js";
import type { TaskContext } from "./job-context.js";
import { noteWaiting, waitAndRetry } from "./waiting.js";

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
