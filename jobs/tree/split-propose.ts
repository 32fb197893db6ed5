import type { Job } from "bullmq";
import type { TriageInput } from "../../src/agent/triage.js";
import type { Triage } from "../../src/tasks/tree.js";
import type { ImplementPlan } from "../implement.js";
import type { TaskContext } from "../job-context.js";
import type { ImplementJobData } from "../queues.js";

/**
 * Triage said `split` (STUB until the manager work lands): the manager proposes a plan of
 * sub-issues, posts it for approval (or, with AGENT_SPLIT_APPROVAL=auto, creates it at once).
 */
export async function proposeSplit(_c: TaskContext, _job: Job<ImplementJobData>, _p: { plan: ImplementPlan; triage: Triage; input: TriageInput }): Promise<void> {
  throw new Error("splitting is not implemented yet");
}
