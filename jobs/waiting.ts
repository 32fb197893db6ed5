import { DelayedError, type Job, WaitingError } from "bullmq";
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
