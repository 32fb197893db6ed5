import type { HumanAnswer, Task } from "../../src/tasks/task.js";
import type { FeedbackOutcome } from "../feedback.js";
import type { WorkerDeps } from "../job-context.js";

/** A human answered a proposed plan (STUB): approval creates it; changes revise it once. */
export async function answerPlan(_deps: WorkerDeps, _task: Task, _answer: HumanAnswer, _signal?: AbortSignal): Promise<FeedbackOutcome> {
  return { action: "ignored", reason: "plan answers are not implemented yet" };
}
