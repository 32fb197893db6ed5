import { DelayedError, type Job } from "bullmq";
import type { Deps } from "../src/deps.js";
import type { Lease } from "../src/tasks/locks.js";

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
async function noteWaiting(deps: Deps, issueId: string, step: string, publish: () => Promise<void>): Promise<void> {
  const task = await deps.tasks.get(issueId);
  if (!task || task.step === step) return;
  await deps.tasks.update(issueId, () => ({ state: task.state === "pr-open" ? "pr-open" : "queued", step }));
  await publish().catch(() => undefined);
}

/** One agent per issue, across processes: takes the lock or delays the job. */
export async function holdIssue(
  deps: Deps,
  p: { job: Job; token: string | undefined; issueId: string; publish: () => Promise<void> },
): Promise<Lease> {
  const lease = await deps.limits.lockIssue(p.issueId, String(p.job.id));
  if (lease) return lease;
  await noteWaiting(deps, p.issueId, "waiting: another agent run for this issue is in progress", p.publish);
  return waitAndRetry(p.job, p.token);
}

/** At most `maxAgents` per repository, across processes: takes a slot or delays the job. */
export async function holdRepoSlot(
  deps: Deps,
  p: { job: Job; token: string | undefined; issueId: string; repo: string; maxAgents: number; publish: () => Promise<void> },
): Promise<Lease> {
  const lease = await deps.limits.acquireRepoSlot(p.repo, String(p.job.id), p.maxAgents);
  if (lease) return lease;
  const waiting = (await deps.tasks.list(500))
    .filter((t) => t.state === "queued" && t.repo && `${t.repo.owner}/${t.repo.name}`.toLowerCase() === p.repo.toLowerCase())
    .sort((a, b) => (a.startedAt ?? a.createdAt).localeCompare(b.startedAt ?? b.createdAt));
  const self = waiting.findIndex((t) => t.issueId === p.issueId);
  const position = self === -1 ? waiting.length + 1 : self + 1;
  await noteWaiting(
    deps,
    p.issueId,
    `waiting: ${p.repo} already has ${p.maxAgents} agent${p.maxAgents === 1 ? "" : "s"} at work (its limit); position ${position} in line`,
    p.publish,
  );
  return waitAndRetry(p.job, p.token);
}

/** AGENT_CONCURRENCY per worker process, whichever queue the agent job came from. */
export async function holdLocalSlot(deps: Deps, p: { job: Job; token: string | undefined }): Promise<Lease> {
  const release = deps.agentSlots.tryAcquire();
  if (!release) return waitAndRetry(p.job, p.token);
  return { release: async () => release() };
}
