import type { Job } from "bullmq";
import { mayDirectAgent } from "../src/github/authority.js";
import { classifyFeedback } from "./feedback-rules.js";
import type { WorkerDeps } from "./job-context.js";
import { createLinearCommentProcessor } from "./linear-comment.js";
import { type FeedbackJobData, type LinearCommentJobData, type SessionFeedbackJobData, safeJobId } from "./queues.js";
import { scheduleRevision } from "./revision-schedule.js";
import { createSessionFeedbackProcessor } from "./session-feedback.js";

/** Result of a feedback job, for logs and tests. */
export type FeedbackOutcome =
  | { action: "ignored"; reason: string }
  | { action: "collected" }
  | { action: "revision"; jobId: string }
  | { action: "implement"; jobId: string };

/**
 * Processor for `feedback` jobs: decides whether a PR comment or review concerns an agent's PR
 * and comes from someone who may direct the agent, collects it, and schedules one revision per
 * burst (a review arrives as many webhooks; BullMQ's debounce gathers them).
 */
export function createFeedbackProcessor(deps: WorkerDeps) {
  const fromSession = createSessionFeedbackProcessor(deps);
  const fromComment = createLinearCommentProcessor(deps);
  return async (job: Job<FeedbackJobData | SessionFeedbackJobData | LinearCommentJobData>, token?: string, signal?: AbortSignal): Promise<FeedbackOutcome> => {
    if (job.data.kind === "session-feedback") return fromSession(job as Job<SessionFeedbackJobData>, token, signal);
    if (job.data.kind === "linear-comment") return fromComment(job as Job<LinearCommentJobData>, token, signal);
    const f = job.data;
    const log = deps.logger.child({ jobId: job.id, queue: job.queueName, pr: `${f.repo.owner}/${f.repo.name}#${f.prNumber}` });
    const ignore = (reason: string): FeedbackOutcome => {
      log.info({ author: f.author.login, reason }, "feedback ignored");
      return { action: "ignored", reason };
    };
    const task = await deps.tasks.findByPullRequest(f.repo.owner, f.repo.name, f.prNumber);
    if (!task) return ignore("not an agent's pull request");
    if (task.state === "merged" || task.state === "closed") return ignore(`the pull request is ${task.state}`);
    if (task.state === "stopped") return ignore("the agent was stopped; label the Linear issue again to resume it");

    const ref = { owner: f.repo.owner, repo: f.repo.name };
    // The webhook's installation, when an App's webhook named one, is remembered for the revision too.
    const via = { ...(f.repo.installationId !== undefined ? { installationId: f.repo.installationId } : {}), ...(signal ? { signal } : {}) };
    const authority = await mayDirectAgent(await deps.clients.github.forRepo(ref, via), {
      ...ref,
      author: f.author,
      selfLogin: await selfLogin(deps, signal),
      signal,
    });
    if (!authority.allowed) return ignore(`author may not direct the agent: ${authority.reason}`);

    const trigger = classifyFeedback(f, deps.config.agent.handle);
    if (!trigger.revise && !trigger.collect) return ignore(trigger.because);
    await deps.feedback.add(task.issueId, f);

    const dedupId = safeJobId("revise", task.issueId);
    const pending = await deps.queues.revise.getDeduplicationJobId(dedupId);
    if (!trigger.revise && !pending) {
      log.info({ author: f.author.login, via: authority.via }, "feedback collected for a later revision");
      return { action: "collected" };
    }
    const revision = await scheduleRevision(deps, { issueId: task.issueId, repo: f.repo, prNumber: f.prNumber, trigger: job.id ?? Date.now() });
    log.info({ author: f.author.login, via: authority.via, because: trigger.because, revision: revision.id }, "revision scheduled");
    return { action: "revision", jobId: String(revision.id) };
  };
}


/** Our own login, so the agent never answers itself; null when GitHub cannot say (the author checks decide then). */
async function selfLogin(deps: WorkerDeps, signal?: AbortSignal): Promise<string | null> {
  return deps.clients.github
    .identity(signal ? { signal } : {})
    .then((me) => me.login)
    .catch(() => null);
}
