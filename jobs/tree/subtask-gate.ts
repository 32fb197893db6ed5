import type { Job } from "bullmq";
import type { IssueContext } from "../../src/linear/issues.js";
import type { TaskContext } from "../job-context.js";
import type { ImplementJobData } from "../queues.js";

/**
 * A sub-issue whose blockers are not all merged yet does not start (STUB: filled in by the manager
 * work): true means the job ends here, the task showing what it waits for.
 */
export async function awaitBlockers(_c: TaskContext, _job: Job<ImplementJobData>): Promise<boolean> {
  return false;
}

/**
 * A sub-issue's context from its tree for the prompt (STUB): the parent's goal, the interfaces the
 * plan agreed and its merged blockers' hand-off notes, recorded as state-transfer tokens.
 */
export async function subtaskContext(_c: TaskContext, _issue: IssueContext): Promise<string | null> {
  return null;
}
