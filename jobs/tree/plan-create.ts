import type { WorkerDeps } from "../job-context.js";
import type { TreeJobData } from "../queues.js";

/** Creates an approved plan's sub-issues and their relations, idempotently (STUB). */
export async function createPlan(_deps: WorkerDeps, _data: TreeJobData, _signal?: AbortSignal): Promise<string> {
  return "not implemented";
}
