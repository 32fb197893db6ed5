import type { WorkerDeps } from "../job-context.js";
import type { TreeJobData } from "../queues.js";
import { createPlan } from "./plan-create.js";
import { queueLinearTick } from "./queue-tree.js";
import { tick } from "./tick.js";
import { type TriageWaitingData, triageWhileWaiting } from "./triage-waiting.js";

/**
 * The manager's jobs on the lifecycle queue: `create-plan` creates an approved plan's sub-issues;
 * `tick` re-derives the tree and acts on it (see tick.ts), or triages one sub-issue that waits
 * for its blockers (see triage-waiting.ts).
 */
export async function runTreeJob(deps: WorkerDeps, data: TreeJobData, signal?: AbortSignal): Promise<string> {
  if (data.kind === "create-plan") return createPlan(deps, data, signal);
  const waiting = (data as TriageWaitingData).triageWaiting;
  if (waiting) return triageWhileWaiting(deps, waiting.issueId, signal);
  // A sub-issue moved between parents: the one it left follows too.
  if (data.otherParentIssueId && data.otherParentIssueId !== data.parentIssueId) await queueLinearTick(deps.queues, data.otherParentIssueId, data.reason);
  deps.logger.debug({ parent: data.parentIssueId, reason: data.reason, linear: data.linear === true }, "tree tick");
  return tick(deps, data.parentIssueId, signal, { linear: data.linear === true });
}
