import type { Job } from "bullmq";
import type { HumanAnswer } from "../src/tasks/tree.js";
import type { ImplementPlan } from "./implement.js";
import type { TaskContext } from "./job-context.js";
import type { ImplementJobData } from "./queues.js";

/** What triage adds to a run that goes ahead: criteria to check against, answers to questions asked. */
export interface GoAhead {
  criteria: string[];
  answers: HumanAnswer[];
}

/**
 * Triage before the first run of a task (STUB: filled in by the triage work): `ready` goes ahead
 * with criteria; `clarify` asks and ends the job; `split` hands the issue to the manager.
 */
export async function triageGate(c: TaskContext, _job: Job<ImplementJobData>, _plan: ImplementPlan): Promise<GoAhead | { done: true }> {
  const t = c.task();
  return { criteria: t.triage?.criteria ?? [], answers: t.clarification?.answers ?? [] };
}
