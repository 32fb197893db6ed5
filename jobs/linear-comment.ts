import type { Job } from "bullmq";
import type { FeedbackOutcome } from "./feedback.js";
import type { WorkerDeps } from "./job-context.js";
import type { LinearCommentJobData } from "./queues.js";

/**
 * A comment on a Linear issue (STUB: filled in by the clarification work): when it answers a
 * question the service asked on the label path (a clarification, a plan's approval), the task goes on.
 */
export function createLinearCommentProcessor(deps: WorkerDeps) {
  return async (job: Job<LinearCommentJobData>, _token?: string, _signal?: AbortSignal): Promise<FeedbackOutcome> => {
    deps.logger.debug({ jobId: job.id }, "Linear comment not handled yet");
    return { action: "ignored", reason: "not implemented" };
  };
}
