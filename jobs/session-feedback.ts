import { createHash } from "node:crypto";
import type { Job } from "bullmq";
import { postActivity } from "../src/linear/agent-sessions.js";
import type { SessionRef, Task } from "../src/tasks/task.js";
import type { TaskStore } from "../src/tasks/task-store.js";
import { enqueueIntent } from "../webhooks/enqueue.js";
import type { FeedbackOutcome } from "./feedback.js";
import { awaitedAnswer, takeAnswer } from "./human-answer.js";
import type { WorkerDeps } from "./job-context.js";
import { type FeedbackJobData, implementFromMessage, type SessionFeedbackJobData, type SessionJobRef } from "./queues.js";
import { answerRepoQuestion, answersRepoQuestion } from "./repo-question.js";
import { scheduleRevision } from "./revision-schedule.js";

/** The message a session asks for, as review feedback: the revision machinery takes it like a PR comment. */
export function sessionFeedbackItem(
  task: Pick<Task, "repo" | "prNumber" | "issueUrl">,
  m: { id: string; body: string; author: string | null; receivedAt: string; delivery: string },
): FeedbackJobData {
  return {
    kind: "feedback",
    repo: task.repo as { owner: string; name: string },
    prNumber: task.prNumber as number,
    event: "linear_prompt",
    // Feedback ids are numbers (GitHub's); a session message gets a stable one from its id.
    commentId: Number.parseInt(createHash("sha256").update(m.id).digest("hex").slice(0, 12), 16),
    body: m.body,
    htmlUrl: task.issueUrl ?? "",
    author: { login: m.author ?? "someone in Linear", type: "User", association: "LINEAR" },
    review: null,
    location: null,
    source: { delivery: m.delivery, receivedAt: m.receivedAt },
  };
}

/** Whether the task has a PR a revision can work on: the one case a message becomes feedback at once. */
export function awaitsReview(task: Task): boolean {
  return Boolean(task.repo && task.prNumber) && (task.state === "pr-open" || task.state === "revising" || task.state === "failed");
}

/**
 * Makes `session` the one that shows the task when it is at least as new as the task's current
 * one (a newer delegation or @mention takes over; a retried job of an older session does not take
 * it back). A session of unknown age never replaces one whose age is known.
 */
export async function attachSession(tasks: TaskStore, task: Task, session: SessionRef): Promise<Task> {
  if (task.session?.id === session.id) return task;
  if (!newerOrSame(session, task.session)) return task;
  return tasks.update(task.issueId, (t) =>
    t.session?.id === session.id || !newerOrSame(session, t.session)
      ? {}
      : { session: { id: session.id, organizationId: session.organizationId, ...(session.createdAt ? { createdAt: session.createdAt } : {}) } },
  );
}

function newerOrSame(incoming: SessionRef, current: SessionRef | null | undefined): boolean {
  if (!current?.createdAt) return true;
  if (!incoming.createdAt) return false;
  return Date.parse(incoming.createdAt) >= Date.parse(current.createdAt);
}

/**
 * Queues a session message as feedback for the task's PR (one revision per burst) and says so in
 * the session. Linear's own permissions decide who may talk to the agent in a session.
 */
export async function queueSessionFeedback(
  deps: WorkerDeps,
  p: { task: Task; session: SessionRef; message: { id: string; body: string; author: string | null; receivedAt: string; delivery: string }; signal?: AbortSignal },
): Promise<{ jobId: string }> {
  const { task } = p;
  await deps.feedback.add(task.issueId, sessionFeedbackItem(task, p.message));
  const revision = await scheduleRevision(deps, { issueId: task.issueId, repo: task.repo as { owner: string; name: string }, prNumber: task.prNumber as number, trigger: `session-${p.message.id}` });
  const pr = `[PR #${task.prNumber}](${task.prUrl ?? ""})`;
  await postActivity(deps.clients.linear(p.signal, p.session.organizationId), {
    sessionId: p.session.id,
    key: `heard:${p.message.id}`,
    content: { type: "thought", body: `Got it: I'll revise ${pr} for this, together with anything else said in the next moments.` },
  });
  return { jobId: String(revision.id) };
}

/**
 * Processor for a `prompted` message in a session: feedback for the PR when one awaits review;
 * otherwise an implement attempt carrying the message (it waits behind a run in progress, and
 * becomes feedback if that run opens a PR).
 */
export function createSessionFeedbackProcessor(deps: WorkerDeps) {
  return async (job: Job<SessionFeedbackJobData>, _token?: string, signal?: AbortSignal): Promise<FeedbackOutcome> => {
    const d = job.data;
    const log = deps.logger.child({ jobId: job.id, queue: job.queueName, issue: d.identifier, session: d.session.id });
    const existing = await deps.tasks.get(d.issueId);
    const task = existing ? await attachSession(deps.tasks, existing, d.session) : null;
    const message = { id: d.activityId, body: d.body, author: d.author, receivedAt: d.source.receivedAt, delivery: d.source.delivery };
    if (task && awaitsReview(task)) {
      const { jobId } = await queueSessionFeedback(deps, { task, session: d.session, message, signal });
      log.info({ revision: jobId }, "session message queued as feedback for the pull request");
      return { action: "revision", jobId };
    }
    // The task waits for a repository choice: the message is its answer.
    if (task && answersRepoQuestion(task, d.activityId)) return answerRepoQuestion(deps, job, task, signal);
    // The task waits for answers to triage's questions or for a plan's approval: the message is it.
    if (task && awaitedAnswer(task, d.activityId)) return takeAnswer(deps, task, { id: d.activityId, body: d.body, author: d.author, at: d.createdAt }, signal);
    const session: SessionJobRef = { ...d.session, promptContext: null, guidance: [], previousComments: [], comment: null, followUp: d.body };
    const data = implementFromMessage(d, null, session);
    const { jobId, merged } = await enqueueIntent(deps.queues, { kind: "implement", data });
    log.info({ implement: jobId, merged }, "session message starts an attempt");
    return { action: "implement", jobId };
  };
}
