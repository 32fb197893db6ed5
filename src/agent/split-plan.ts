import type Anthropic from "@anthropic-ai/sdk";
import type { SplitPlan, SubtaskSpec, Triage, Usage } from "../tasks/task.js";
import type { Pricing } from "./pricing.js";
import type { TriageInput } from "./triage.js";

/** The forced tool's name: tests route planning calls by it (test/helpers/triage.ts). */
export const PLAN_TOOL = "propose_plan";

/** The manager's proposal: the parent's goal, the agreed interfaces and the sub-issues. */
export interface ProposedPlan {
  goal: string;
  interfaces: string;
  subtasks: SubtaskSpec[];
  model: string;
  usage: Usage;
  costUsd: number;
}

/** The manager's forced-tool-use call that proposes (or once revises) a plan (STUB until the triage work lands). */
export async function planSplit(_p: {
  anthropic: Anthropic;
  model: string;
  pricing: Pricing;
  input: TriageInput;
  triage: Triage;
  maxSubtasks: number;
  /** A human asked for changes: the previous plan and what they said. */
  revise?: { previous: Pick<SplitPlan, "goal" | "interfaces" | "subtasks">; changes: string };
  signal?: AbortSignal;
}): Promise<ProposedPlan> {
  throw new Error("planning is not implemented yet");
}
