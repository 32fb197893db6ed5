import type { Queues } from "../queues.js";
import { safeJobId } from "../queues.js";

/** Asks that say a child merged (`ENG-3 merged`): its dependants may start now, or the tree is done. */
const MERGED = / merged$/;

/**
 * Asks the manager to re-derive a parent's tree (start unblocked children, roll up, budget).
 * Ticks coalesce: while one waits, further asks join it (BullMQ deduplication), and the short
 * delay gathers a burst of child updates into one roll-up edit. A child's merge does not wait
 * for it: the tree's next wave starts on it, so it runs at once (pulling forward a tick already
 * waiting).
 */
export async function queueTick(queues: Pick<Queues, "lifecycle">, parentIssueId: string, reason: string, delayMs = MERGED.test(reason) ? 0 : 500): Promise<void> {
  await queues.lifecycle.add("tick", { kind: "tick", parentIssueId, reason }, tickOptions(safeJobId("tick", parentIssueId), delayMs));
}

/**
 * A tick that first reads the parent's sub-issues from Linear (a human added, removed or cancelled
 * one). Coalesced apart from the plain ticks, so a plain one never swallows the Linear read; the
 * tick's own lock keeps the two from running at once.
 */
export async function queueLinearTick(queues: Pick<Queues, "lifecycle">, parentIssueId: string, reason: string, delayMs = 500): Promise<void> {
  await queues.lifecycle.add("tick", { kind: "tick", parentIssueId, reason, linear: true }, tickOptions(safeJobId("tick-linear", parentIssueId), delayMs));
}

/** Job options of a tick whose asks coalesce under `dedupId`. */
export function tickOptions(dedupId: string, delayMs = 500) {
  // keepLastIfActive: an ask while the tick runs is kept as the next tick, not dropped (the
  // running one may have read the records before the change that asked).
  // An ask with no delay moves a tick that still waits out its delay to now (reschedule); the
  // others leave it as it is, so a stream of updates cannot keep postponing it.
  const deduplication = { id: dedupId, keepLastIfActive: true, ...(delayMs === 0 ? { reschedule: true } : {}) };
  return { delay: delayMs, deduplication, attempts: 5, backoff: { type: "exponential" as const, delay: 2_000 } };
}

/**
 * Creates an approved plan's sub-issues. One job per parent and plan: a redelivered approval or
 * a retry finds the job (or the sub-issues it created) instead of creating them twice.
 */
export async function queueCreatePlan(queues: Pick<Queues, "lifecycle">, parentIssueId: string, planAt: string): Promise<void> {
  const jobId = safeJobId("create-plan", parentIssueId, Date.parse(planAt) || planAt);
  // A failed job is kept (30 days) under the same id, and an add would silently find it: asking
  // again (a re-label, the reconciler) runs it again instead.
  const failed = await queues.lifecycle.getJob(jobId);
  if (failed && (await failed.getState()) === "failed") {
    await failed.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
    return;
  }
  await queues.lifecycle.add(
    "create-plan",
    { kind: "create-plan", parentIssueId, reason: "plan approved" },
    { jobId, attempts: 8, backoff: { type: "exponential", delay: 2_000 } },
  );
}
