import type { HumanAnswer, Task } from "../src/tasks/task.js";
import { answerClarification } from "./clarify.js";
import type { FeedbackOutcome } from "./feedback.js";
import type { WorkerDeps } from "./job-context.js";
import { answerPlan } from "./tree/plan-answer.js";

/** What a task waits for a human to answer. */
export type Awaited = "clarification" | "plan";

/**
 * What the task waits for a human to answer: triage's questions, or the approval of a proposed
 * plan; null when it waits for nothing. Given an answer id the task already took (a redelivered
 * webhook, a retried job), the question it answered, so the retry finishes what the first began.
 */
export function awaitedAnswer(task: Task, answerId?: string): Awaited | null {
  if (answerId && task.clarification?.answers.some((a) => a.id === answerId)) return "clarification";
  if (answerId && task.plan?.answered.includes(answerId)) return "plan";
  if (task.state !== "needs-input") return null;
  if (task.clarification?.open) return "clarification";
  if (task.plan?.status === "proposed") return "plan";
  return null;
}

/** Routes a human's answer to what the task waits for: the clarification, or the plan's approval. */
export async function takeAnswer(deps: WorkerDeps, task: Task, answer: HumanAnswer, signal?: AbortSignal): Promise<FeedbackOutcome> {
  const awaited = awaitedAnswer(task, answer.id);
  if (awaited === "clarification") return answerClarification(deps, task, answer, signal);
  if (awaited === "plan") return answerPlan(deps, task, answer, signal);
  return { action: "ignored", reason: `the task waits for no answer (it is ${task.state})` };
}
