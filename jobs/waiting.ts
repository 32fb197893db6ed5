import { DelayedError, type Job, type Queue, WaitingError } from "bullmq";
import type { Deps } from "../src/deps.js";
import type { LineEntry } from "../src/tasks/locks.js";
import { logUnrecorded } from "./failures.js";
import type { TaskContext } from "./job-context.js";

/**
 * How long a waiting job sleeps at most. Whoever frees what it waits for wakes it at once; this
 * is the safety net for a wake that never came: the releaser crashed between releasing and
 * waking, its Redis call failed, a lease holder died and its slot simply expired, or the job
 * ahead was removed from the queue without leaving the line.
 */
export const SAFETY_NET_MS = 60_000;

/** Puts the job back as delayed (not a failed attempt) and leaves the processor. */
export async function waitAndRetry(job: Job, token: string | undefined, ms = SAFETY_NET_MS): Promise<never> {
  await job.moveToDelayed(Date.now() + ms, token);
  throw new DelayedError();
}

/**
 * Puts the job to sleep until a releaser wakes it (or the safety net). A wake that came between
 * the job's refused look and its sleep could not promote it, as it was still active; `wokenMeanwhile`
 * tells, and then the job wakes itself.
 */
export async function sleepUntilWoken(job: Job, token: string | undefined, wokenMeanwhile: () => Promise<boolean> | boolean): Promise<never> {
  await job.moveToDelayed(Date.now() + SAFETY_NET_MS, token);
  if (await wokenMeanwhile()) await job.promote().catch(() => undefined);
  throw new DelayedError();
}

/** The job as it stands in a line. */
export function lineEntry(job: Job): LineEntry {
  return { queue: job.queueName, jobId: String(job.id) };
}

/** The agent queue a line entry belongs to. */
function queueOf(deps: Pick<Deps, "queues">, entry: LineEntry): Queue | null {
  if (entry.queue === deps.queues.implement.name) return deps.queues.implement;
  if (entry.queue === deps.queues.revise.name) return deps.queues.revise;
  return null;
}

/** Whether the entry's job is gone or finished, so it waits for nothing any more. */
export async function departed(deps: Pick<Deps, "queues">, entry: LineEntry): Promise<boolean> {
  const queue = queueOf(deps, entry);
  if (!queue) return false;
  const state = await queue.getJobState(entry.jobId);
  return state === "unknown" || state === "completed" || state === "failed";
}

/**
 * Wakes a sleeping job: promotes it from delayed, after leaving a wake mark (`mark`) for a job
 * that is still on its way to sleep. Returns whether the job will look again soon (promoted, or
 * already queued or running), false when it is gone.
 */
export async function wakeJob(deps: Pick<Deps, "queues" | "limits">, entry: LineEntry, mark = true): Promise<boolean> {
  if (mark) await deps.limits.markWake(entry);
  const job = await queueOf(deps, entry)?.getJob(entry.jobId);
  if (!job) return false;
  try {
    await job.promote();
    return true;
  } catch {
    // Not delayed (any more): it is on its way, or finished meanwhile.
    const state = await job.getState();
    return state === "waiting" || state === "prioritized" || state === "active";
  }
}

/**
 * Records why a job waits on its task and the Linear comment, only when the reason changes, so
 * a waiting job does not spend the Linear request budget every few seconds.
 */
export async function noteWaiting(c: TaskContext, step: string): Promise<void> {
  const task = c.task();
  if (task.step === step) return;
  await c.save({ state: task.state === "pr-open" || task.state === "revising" ? task.state : "queued", step });
  await c.publish().catch((err: unknown) => c.log.warn({ err }, "could not show the waiting reason on Linear"));
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
