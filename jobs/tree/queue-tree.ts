import type { Queues } from "../queues.js";
import { safeJobId } from "../queues.js";

/**
 * Asks the manager to re-derive a parent's tree (start unblocked children, roll up, budget).
 * Ticks coalesce: while one waits, further asks join it (BullMQ deduplication), and the short
 * delay gathers a burst of child updates into one roll-up edit.
 */
export async function queueTick(queues: Pick<Queues, "lifecycle">, parentIssueId: string, reason: string, delayMs = 500): Promise<void> {
  await queues.lifecycle.add(
    "tick",
    { kind: "tick", parentIssueId, reason },
    { delay: delayMs, deduplication: { id: safeJobId("tick", parentIssueId) }, attempts: 5, backoff: { type: "exponential", delay: 2_000 } },
  );
}

/**
 * Creates an approved plan's sub-issues. One job per parent and plan: a redelivered approval or
 * a retry finds the job (or the sub-issues it created) instead of creating them twice.
 */
export async function queueCreatePlan(queues: Pick<Queues, "lifecycle">, parentIssueId: string, planAt: string): Promise<void> {
  await queues.lifecycle.add(
    "create-plan",
    { kind: "create-plan", parentIssueId, reason: "plan approved" },
    { jobId: safeJobId("create-plan", parentIssueId, Date.parse(planAt) || planAt), attempts: 8, backoff: { type: "exponential", delay: 2_000 } },
  );
}
