import { upsertComment } from "../src/linear/comments.js";
import type { IssueContext } from "../src/linear/issues.js";
import { planUuid } from "../src/linear/sub-issues.js";
import { renderClarificationComment } from "../src/status/clarify-text.js";
import { publishStatus } from "../src/status/publish.js";
import { type Clarification, type HumanAnswer, type Task, type Triage, workspaceOf } from "../src/tasks/task.js";
import { enqueueIntent, planJob } from "../webhooks/enqueue.js";
import type { Intent } from "../webhooks/intents.js";
import type { FeedbackOutcome } from "./feedback.js";
import type { TaskContext, WorkerDeps } from "./job-context.js";
import { type ImplementJobData, implementFromTask, safeJobId } from "./queues.js";

/** Asked when triage said `clarify` without saying what: the humans still get a question to answer. */
const FALLBACK_QUESTION = "What exactly should the finished work do, and how will you check it? The issue does not say clearly enough to start.";

/**
 * Asks the humans triage's questions before any code: in the task's agent session (an
 * elicitation rendered from the task), or on the label path in a Linear comment addressed to the
 * issue's creator. The task waits in `needs-input`: the job ends, so it holds no agent slot, and
 * the question lives on the task in Redis across restarts.
 */
export async function askClarification(c: TaskContext, issue: IssueContext, triage: Triage): Promise<void> {
  const task = c.task();
  const now = new Date().toISOString();
  // A retried asking job finds its question already asked: the same one, under the same comment.
  const open = task.clarification?.open ? task.clarification : null;
  const questions = open?.questions ?? (triage.questions.length ? triage.questions : [FALLBACK_QUESTION]);
  const askedOf = open?.askedOf ?? issue.creator?.name ?? null;
  const commentId = task.session ? null : (open?.commentId ?? planUuid(task.issueId, triage.at, "clarify"));
  const clarification: Clarification = { questions, askedAt: open?.askedAt ?? now, commentId, askedOf, open: true, answers: task.clarification?.answers ?? [] };
  // Waiting before asking: an answer that comes the moment the comment appears finds the task
  // waiting for it. A failed post fails the job, whose retry asks again under the same id.
  await c.save({ state: "needs-input", step: null, error: null, question: null, clarification, finishedAt: now });
  if (commentId) await upsertComment(c.linear, { issueId: issue.id, commentId, body: renderClarificationComment({ questions, askedOf }, issue.identifier) });
  await c.publish();
  c.log.info({ questions, askedOf, commentId, where: task.session ? "session" : "comment" }, "triage asked the humans before any code; the task waits for an answer");
}

/**
 * Takes a human's answer to the open clarification (each answer id once: a redelivered webhook or
 * a retried job finds it taken and only makes sure the resumed job exists), and resumes the same
 * task: a new implement job whose id derives from the answer, which re-triages once with it.
 */
export async function answerClarification(deps: WorkerDeps, task: Task, answer: HumanAnswer, signal?: AbortSignal): Promise<FeedbackOutcome> {
  const log = deps.logger.child({ issue: task.identifier, answer: answer.id });
  const updated = await deps.tasks.update(task.issueId, (t) => {
    const c = t.clarification;
    if (!c || !c.open || t.state !== "needs-input" || c.answers.some((a) => a.id === answer.id)) return {};
    return { state: "queued", step: "starting with your answers", error: null, clarification: { ...c, open: false, answers: [...c.answers, answer] } };
  });
  const taken = updated.clarification?.answers.some((a) => a.id === answer.id) ?? false;
  if (!taken) {
    const reason = updated.clarification?.open === false ? "the question was already answered" : "the task does not wait for an answer";
    log.info({ reason }, "answer not taken");
    return { action: "ignored", reason };
  }
  const data = await resumeData(deps, updated, answer);
  const intent: Intent = { kind: "implement", data };
  const { jobId, merged } = await enqueueIntent(deps.queues, intent, { ...planJob(intent), jobId: safeJobId("implement", task.issueId, "answer", answer.id) });
  await publishStatus(deps.clients.linear(signal, workspaceOf(updated)), { tasks: deps.tasks, task: updated, agentLabel: deps.config.agentLabel, publicUrl: deps.config.publicUrl });
  log.info({ implement: jobId, merged, author: answer.author }, "clarification answered; the task resumes with the answer in its spec");
  return { action: "implement", jobId };
}

/**
 * The resumed job's data: the asking job's (Linear's prompt context and the session stay in the
 * prompt), under the answer's time. The answer is part of the spec, not a follow-up instruction.
 */
async function resumeData(deps: WorkerDeps, task: Task, answer: HumanAnswer): Promise<ImplementJobData> {
  const asked = task.jobId ? await deps.queues.implement.getJob(task.jobId) : undefined;
  const base: ImplementJobData =
    asked?.data ?? implementFromTask(task, { eventAt: answer.at, source: { delivery: `answer-${answer.id}`, receivedAt: answer.at, actor: answer.author } });
  // Never earlier than the question: a Linear clock behind ours must not make the answer look stale.
  const askedAt = task.clarification?.askedAt ?? answer.at;
  const eventAt = Date.parse(answer.at) > Date.parse(askedAt) ? answer.at : askedAt;
  const session = base.session ? { ...base.session, followUp: base.session.followUp ?? null } : undefined;
  return { ...base, eventAt, source: { delivery: `answer-${answer.id}`, receivedAt: answer.at, actor: answer.author }, ...(session ? { session } : {}) };
}
