import type { WorkerDeps } from "../job-context.js";
import type { TreeJobData } from "../queues.js";

/**
 * The manager's jobs on the lifecycle queue (STUB: filled in by the manager work): `create-plan`
 * creates an approved plan's sub-issues; `tick` re-derives the tree and acts on it.
 */
export async function runTreeJob(deps: WorkerDeps, data: TreeJobData, _signal?: AbortSignal): Promise<string> {
  deps.logger.info({ parent: data.parentIssueId, kind: data.kind }, "tree job not implemented yet");
  return "not implemented";
}
