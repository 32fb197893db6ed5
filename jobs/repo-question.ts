import type { Job } from "bullmq";
import { postActivity } from "../src/linear/agent-sessions.js";
import { matchRepoAnswer } from "../src/routing/repo-answer.js";
import type { RepoAsk } from "../src/routing/route-or-ask.js";
import { publishStatus } from "../src/status/publish.js";
import type { Task } from "../src/tasks/task.js";
import { enqueueIntent } from "../webhooks/enqueue.js";
import type { FeedbackOutcome } from "./feedback.js";
import type { TaskContext, WorkerDeps } from "./job-context.js";
import { type ImplementJobData, implementFromMessage, type SessionFeedbackJobData } from "./queues.js";

/**
 * Ends the job asking the session which repository to work in (a `select` elicitation rendered
 * from the task, see status/linear-session). The task waits in `needs-input`: the job finishes,
 * so it holds no agent slot and no issue lock, and the question lives in Redis across restarts.
 */
export async function askForRepo(c: TaskContext, job: Job<ImplementJobData>, ask: RepoAsk): Promise<void> {
  const now = new Date().toISOString();
  await c.save({
    state: "needs-input",
    step: null,
    error: null,
    question: null,
    repoQuestion: { candidates: ask.candidates, why: ask.why, key: `job:${String(job.id)}`, askedAt: now, unmatched: null },
    finishedAt: now,
  });
  await c.publish();
  c.log.info({ candidates: ask.candidates, why: ask.why }, "asked the session which repository to work in");
}

/** Whether a session message answers the task's open repository question (or retries an answer). */
export function answersRepoQuestion(task: Task, activityId: string): boolean {
  return (task.state === "needs-input" && Boolean(task.repoQuestion)) || task.repoChoice?.activityId === activityId;
}

/**
 * Reads a session message as the answer to "which repository?": a match is remembered on the
 * task and resumes it (the same task, a new implement job whose id derives from the answer); an
 * answer that matches nothing, or several, asks again saying so.
 */
export async function answerRepoQuestion(deps: WorkerDeps, job: Job<SessionFeedbackJobData>, task: Task, signal?: AbortSignal): Promise<FeedbackOutcome> {
  const d = job.data;
  const log = deps.logger.child({ jobId: job.id, queue: job.queueName, issue: d.identifier, session: d.session.id });
  const linear = deps.clients.linear(signal, d.session.organizationId);
  // A retry of an answer already taken: only the job may be missing.
  const chosen = task.repoChoice?.activityId === d.activityId ? task.repoChoice.repo : null;
  const question = task.repoQuestion;
  const answer = chosen ? { kind: "match" as const, repo: chosen } : matchRepoAnswer(d.body, question?.candidates ?? []);
  if (answer.kind !== "match") {
    const updated = await deps.tasks.update(task.issueId, (t) =>
      t.state === "needs-input" && t.repoQuestion
        ? { repoQuestion: { ...t.repoQuestion, key: `answer:${d.activityId}`, askedAt: new Date().toISOString(), unmatched: { answer: d.body, among: answer.kind === "ambiguous" ? answer.among : [] } } }
        : {},
    );
    await publishStatus(linear, { tasks: deps.tasks, task: updated, agentLabel: deps.config.agentLabel });
    log.info({ answer: d.body.slice(0, 200), result: answer.kind }, "the answer names no single candidate repository; asked again");
    return { action: "ignored", reason: `the answer matches ${answer.kind === "ambiguous" ? "several" : "no"} candidate repositories; asked again` };
  }
  if (!chosen) {
    await deps.tasks.update(task.issueId, () => ({
      state: "queued",
      step: null,
      repoQuestion: null,
      repoChoice: { repo: answer.repo, chosenBy: d.author, chosenAt: d.createdAt, activityId: d.activityId },
    }));
  }
  await postActivity(linear, {
    sessionId: d.session.id,
    key: `repo-chosen:${d.activityId}`,
    content: { type: "thought", body: `Working in \`${answer.repo}\`; I'll remember that for ${d.identifier}.` },
  });
  const { jobId, merged } = await enqueueIntent(deps.queues, { kind: "implement", data: await resumeData(deps, task, d) });
  log.info({ repo: answer.repo, implement: jobId, merged }, "repository chosen in the session; the task resumes");
  return { action: "implement", jobId };
}

/**
 * The resumed job's data: the asking job's (Linear's prompt context, guidance and thread stay in
 * the prompt), under a new event time, the answer's, which gives the job a stable id of its own.
 */
async function resumeData(deps: WorkerDeps, task: Task, d: SessionFeedbackJobData): Promise<ImplementJobData> {
  const asked = task.jobId ? await deps.queues.implement.getJob(task.jobId) : undefined;
  const base: ImplementJobData = asked?.data ?? implementFromMessage(d, task.teamId);
  // The answer is not an instruction for the agent; a follow-up that started the asking attempt is.
  const session = { promptContext: null, guidance: [], previousComments: [], comment: null, ...base.session, ...d.session, followUp: base.session?.followUp ?? null };
  return { ...base, eventAt: d.createdAt, source: { ...d.source, actor: d.author }, session };
}
