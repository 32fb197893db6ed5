import type { WorkerDeps } from "../job-context.js";
import type { TreeJobData } from "../queues.js";
import { createPlan } from "./plan-create.js";
import { queueLinearTick } from "./queue-tree.js";
import { tick } from "./tick.js";

/**
 * The manager's jobs on the lifecycle queue: `create-plan` creates an approved plan's sub-issues;
 * `tick` re-derives the tree and acts on it (see tick.ts).
 */
export async function runTreeJob(deps: WorkerDeps, data: TreeJobData, signal?: AbortSignal): Promise<string> {
  if (data.kind === "create-plan") return createPlan(deps, data, signal);
  // A sub-issue moved between parents: the one it left follows too.
  if (data.otherParentIssueId && data.otherParentIssueId !== data.parentIssueId) await queueLinearTick(deps.queues, data.otherParentIssueId, data.reason);
  deps.logger.debug({ parent: data.parentIssueId, reason: data.reason, linear: data.linear === true }, "tree tick");
  return tick(deps, data.parentIssueId, signal, { linear: data.linear === true });
}
