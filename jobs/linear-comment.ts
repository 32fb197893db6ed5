import type { LinearClient } from "@linear/sdk";
import type { Job } from "bullmq";
import { fetchIssueContext } from "../src/linear/issues.js";
import { sessionAsked, type Task, workspaceOf } from "../src/tasks/task.js";
import type { FeedbackOutcome } from "./feedback.js";
import { awaitedAnswer, takeAnswer } from "./human-answer.js";
import type { WorkerDeps } from "./job-context.js";
import type { LinearCommentJobData } from "./queues.js";

/**
 * A comment on a Linear issue (label path): when the issue's task waits for a human's answer (a
 * clarification, a plan's approval), a person's comment is that answer when it replies to the
 * question or plan comment, or is a top-level comment by the issue's creator (read from Linear,
 * one request, only while the task waits). Anything else is ignored with its reason.
 * The service's own comments (written as the API key's or the app's user) are never answers.
 */
export function createLinearCommentProcessor(deps: WorkerDeps) {
  const self = selfCache();
  return async (job: Job<LinearCommentJobData>, _token?: string, signal?: AbortSignal): Promise<FeedbackOutcome> => {
    const d = job.data;
    const log = deps.logger.child({ jobId: job.id, queue: job.queueName, issueId: d.issueId, comment: d.commentId });
    const ignore = (reason: string): FeedbackOutcome => {
      log.info({ reason, author: d.authorName }, "Linear comment is not an answer; ignored");
      return { action: "ignored", reason };
    };
    const task = await deps.tasks.get(d.issueId);
    if (!task) return ignore("no agent task for this issue");
    if (ownCommentIds(task).includes(d.commentId)) return ignore("the service's own comment");
    // A delegated task talks in its agent session: a message there (`prompted`) is the answer.
    if (sessionAsked(task)) return ignore("the task's agent session takes answers (a message in the session), not issue comments");
    const awaited = awaitedAnswer(task, d.commentId);
    if (!awaited) return ignore(`the task waits for no answer (it is ${task.state})`);
    const linear = deps.clients.linear(signal, d.organizationId ?? workspaceOf(task));
    if (d.authorId && d.authorId === (await self(linear, d.organizationId ?? workspaceOf(task) ?? ""))) return ignore("written by the service's own Linear user");
    const replies = d.parentCommentId !== null && [task.clarification?.commentId, task.plan?.approvalCommentId].includes(d.parentCommentId);
    // Not every comment while the task waits is an answer ("cc @bob" must not pay for a revision):
    // a reply to our question or plan, or a top-level comment by the issue's creator (whom the
    // question addresses). An answer already taken (a retried job) was checked the first time.
    const taken = task.clarification?.answers.some((a) => a.id === d.commentId) || task.plan?.answered.includes(d.commentId);
    if (!replies && !taken) {
      const byCreator = d.parentCommentId === null && d.authorId !== null && d.authorId === (await fetchIssueContext(linear, { issueId: d.issueId })).creator?.id;
      if (!byCreator) return ignore(`neither a reply to the ${awaited === "plan" ? "plan" : "question"} comment nor a comment by the issue's creator`);
    }
    log.info({ awaited, author: d.authorName, reply: replies }, `a comment on the issue answers the ${awaited === "plan" ? "proposed plan" : "clarification"}`);
    return takeAnswer(deps, task, { id: d.commentId, body: d.body, author: d.authorName, at: d.createdAt || d.source.receivedAt }, signal);
  };
}

/** Comments the service wrote itself and knows by id (progress, question, plan, roll-up). */
function ownCommentIds(task: Task): string[] {
  const ids = [task.progressCommentId, task.clarification?.commentId, task.plan?.approvalCommentId, task.plan?.rollupCommentId];
  return ids.filter((id): id is string => typeof id === "string");
}

/**
 * The Linear user the service writes as, per workspace (the API key's user, or the app's user):
 * asked once per process and workspace, since it never changes while the process runs.
 */
function selfCache(): (linear: LinearClient, workspace: string) => Promise<string> {
  const known = new Map<string, string>();
  return async (linear, workspace) => {
    const cached = known.get(workspace);
    if (cached) return cached;
    const res = await linear.client.rawRequest<{ viewer: { id: string } }, Record<string, never>>("query AgentSelf { viewer { id } }", {});
    const id = res.data?.viewer.id;
    if (!id) throw new Error("Linear did not say which user the service acts as (viewer); the comment is retried");
    known.set(workspace, id);
    return id;
  };
}
