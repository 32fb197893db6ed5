import type { WorkerDeps } from "./job-context.js";
import { type ReviseJobData, safeJobId } from "./queues.js";

/**
 * Schedules the revision of an issue's PR with BullMQ's debounce: feedback within the quiet time
 * replaces the waiting job and restarts the clock, so one review (many webhooks) becomes one
 * revision. Feedback arriving while a revision runs is kept as exactly one follow-up.
 */
export async function scheduleRevision(
  deps: Pick<WorkerDeps, "queues" | "config">,
  p: { issueId: string; repo: ReviseJobData["repo"]; prNumber: number; trigger: string | number },
): Promise<{ id?: string }> {
  const data: ReviseJobData = { kind: "revise", issueId: p.issueId, repo: p.repo, prNumber: p.prNumber };
  return deps.queues.revise.add("revise", data, {
    jobId: safeJobId("revise", p.issueId, p.trigger),
    delay: deps.config.agent.revisionDebounceMs,
    deduplication: { id: safeJobId("revise", p.issueId), replace: true, keepLastIfActive: true },
  });
}
