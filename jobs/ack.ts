import type { Job, Queue } from "bullmq";
import { postActivity } from "../src/linear/agent-sessions.js";
import type { Task } from "../src/tasks/task.js";
import type { WorkerDeps } from "./job-context.js";
import { type AckJobData, safeJobId } from "./queues.js";
import { attachSession, awaitsReview } from "./session-feedback.js";

const WAITING = ["waiting", "delayed", "prioritized"] as const;

/**
 * Processor for the `ack` queue: a new session's first activity, a `thought` saying the work is
 * queued and why (its place in line when agents are busy). Its workers take no agent slot, so
 * it lands within Linear's 10 seconds however busy the agents are. It also attaches the session
 * to the issue's task, so a run already under way shows in it.
 */
export function createAckProcessor(deps: WorkerDeps) {
  return async (job: Job<AckJobData>, _token?: string, signal?: AbortSignal): Promise<{ said: string }> => {
    const d = job.data;
    const ensured = await deps.tasks.ensure({ issueId: d.issueId, identifier: d.identifier, title: d.title, issueUrl: d.url });
    // A session the label path opened itself, announced by Linear (possibly before the label path
    // recorded Linear's answer): its task already shows there.
    const settled = await openedSettled(deps, ensured, signal);
    if (settled.session?.id === d.session.id && settled.session.openedBy === "label") return { said: "" };
    const task = await attachSession(deps.tasks, settled, d.session);
    const said = await lineMessage(deps, d, task);
    // Linear expects a session's first activity within 10 s: it goes before status updates.
    await postActivity(deps.clients.linear(signal, d.session.organizationId, { priority: "critical" }), { sessionId: d.session.id, key: `ack:${d.session.id}`, content: { type: "thought", body: said } });
    return { said };
  };
}

/** How long the ack waits for the label path to record the session it is opening (Linear wants an activity within 10 s). */
const OPENING_WAIT_MS = 5_000;
/** A marker older than this is left by a crash mid-open, and is not waited for. */
const OPENING_STALE_MS = 60_000;

/**
 * The task once the label path is done opening its own session: while it is (`sessionOpening`,
 * recorded before its create call), Linear's `created` for that session can arrive before the
 * path records Linear's answer, so this waits for the answer (bounded by Linear's 10 s).
 */
async function openedSettled(deps: WorkerDeps, task: Task, signal?: AbortSignal): Promise<Task> {
  const opening = (t: Task) => Boolean(t.sessionOpening) && !t.session && Date.now() - Date.parse(t.sessionOpening as string) < OPENING_STALE_MS;
  const until = Date.now() + OPENING_WAIT_MS;
  let t = task;
  while (opening(t) && Date.now() < until && !signal?.aborted) {
    await new Promise((r) => setTimeout(r, 100));
    t = (await deps.tasks.get(task.issueId)) ?? t;
  }
  return t;
}

/** What to tell the human now: feedback for an open PR, or where the job stands in line. */
async function lineMessage(deps: WorkerDeps, d: AckJobData, task: Task): Promise<string> {
  if (awaitsReview(task)) return `${d.identifier} already has [PR #${task.prNumber}](${task.prUrl ?? ""}); I'll take this as feedback and revise it.`;
  const { implement, revise } = deps.queues;
  // The session's job, or the one it was merged into (one implement job per issue).
  const jobId = (await implement.getJob(d.implementJobId)) ? d.implementJobId : await implement.getDeduplicationJobId(safeJobId("implement", d.issueId));
  const job = jobId ? await implement.getJob(jobId) : undefined;
  const state = job ? await job.getState() : "unknown";
  if (!job || state === "active") return `Working on ${d.identifier}.`;
  if (!(WAITING as readonly string[]).includes(state)) return `Received ${d.identifier}; it is being picked up.`;
  const [ahead, running] = await Promise.all([
    Promise.all([implement, revise].map((q) => jobsAhead(q as Queue, job.timestamp, String(job.id)))).then((n) => n[0]! + n[1]!),
    Promise.all([implement, revise].map((q) => q.getActiveCount())).then((n) => n[0]! + n[1]!),
  ]);
  const why = task.step?.startsWith("waiting: ") ? task.step.slice("waiting: ".length) : running > 0 ? `${running} agent job${running === 1 ? " is" : "s are"} running` : null;
  if (ahead === 0 && !why) return `Queued ${d.identifier}; starting in a moment.`;
  const place = `number ${ahead + 1} in line`;
  return `Queued ${d.identifier}: ${why ? `${why}; ` : ""}it is ${place} and starts as soon as an agent slot frees up.`;
}

/** Jobs waiting in `queue` that were queued before `timestamp` (the line is first come, first served). */
async function jobsAhead(queue: Queue, timestamp: number, self: string): Promise<number> {
  const jobs = await queue.getJobs([...WAITING], 0, 500);
  return jobs.filter((j) => j && String(j.id) !== self && j.timestamp < timestamp).length;
}
