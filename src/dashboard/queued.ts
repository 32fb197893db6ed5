import type { Job } from "bullmq";
import type { ImplementJobData, Queues, ReviseJobData } from "../../jobs/queues.js";
import { isActive, newTask, type Task } from "../tasks/task.js";

/** How many not-yet-started jobs of each agent queue the dashboard reads. */
export const QUEUED_JOB_LIMIT = 200;

/** What a job that no worker has picked up yet is waiting for. */
export const NO_WORKER_YET = "waiting for a free worker";

/** Agent jobs that wait in their queue without a worker: the task records cannot know of them. */
export interface QueuedJobs {
  implement: Array<Job<ImplementJobData>>;
  revise: Array<Job<ReviseJobData>>;
}

/**
 * Reads the implement and revise jobs no worker has taken yet (waiting, prioritized, delayed),
 * oldest first, through the queues' public API.
 */
export async function readQueuedJobs(queues: Pick<Queues, "implement" | "revise">): Promise<QueuedJobs> {
  const types = ["waiting", "prioritized", "delayed"] as const;
  const [implement, revise] = await Promise.all([
    queues.implement.getJobs([...types], 0, QUEUED_JOB_LIMIT - 1, true),
    queues.revise.getJobs([...types], 0, QUEUED_JOB_LIMIT - 1, true),
  ]);
  // A job removed between listing and reading comes back empty.
  return { implement: implement.filter(Boolean), revise: revise.filter(Boolean) };
}

/** Why a job waits in its queue, in words: delayed ones start at a set time. */
function reason(job: Job, now: number): string {
  const delay = job.delay ?? 0;
  const at = job.timestamp + delay;
  if (delay > 0 && at > now) return `scheduled to start at ${new Date(at).toISOString().slice(11, 19)} UTC`;
  return NO_WORKER_YET;
}

/**
 * The tasks as the dashboard shows them, with the jobs that wait in their queue: an implement job
 * whose issue has no task, or only a finished one, shows as a queued task (the newest first, ahead
 * of the rest); a revision waiting for a worker shows on its task's step. Tasks with a run in
 * progress already say what they wait for, and are left alone.
 */
export function withQueuedJobs(tasks: readonly Task[], jobs: QueuedJobs, now: number): Task[] {
  const byIssue = new Map(tasks.map((t) => [t.issueId, t]));
  const fresh: Task[] = [];
  const overlay = new Map<string, Task>();
  for (const job of jobs.implement) {
    const d = job.data;
    const task = byIssue.get(d.issueId);
    if (task && isActive(task.state)) continue;
    const queued: Task = {
      ...(task ?? newTask({ issueId: d.issueId, identifier: d.identifier, title: d.title, issueUrl: d.url, now: new Date(job.timestamp).toISOString() })),
      state: "queued",
      step: `waiting: ${reason(job, now)}`,
      error: null,
      jobId: job.id ?? null,
    };
    if (task) overlay.set(d.issueId, queued);
    else fresh.push(queued);
  }
  for (const job of jobs.revise) {
    const task = overlay.get(job.data.issueId) ?? byIssue.get(job.data.issueId);
    if (!task || isActive(task.state) || reason(job, now) !== NO_WORKER_YET) continue;
    overlay.set(task.issueId, { ...task, step: `revision ${NO_WORKER_YET}` });
  }
  fresh.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return [...fresh, ...tasks.map((t) => overlay.get(t.issueId) ?? t)];
}
