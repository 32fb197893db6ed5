import type Anthropic from "@anthropic-ai/sdk";
import type { IssueContext } from "../linear/issues.js";
import type { HumanAnswer, Triage } from "../tasks/tree.js";
import type { Pricing } from "./pricing.js";

/** What triage reads: the issue, its comments, the repository's file tree and conventions, earlier answers. */
export interface TriageInput {
  issue: IssueContext;
  /** Paths of the repository's files (no contents), possibly capped. */
  files: string[];
  conventions: Array<{ file: string; text: string }>;
  answers: HumanAnswer[];
  /** False for a sub-issue: it is never split again. */
  allowSplit: boolean;
  maxSubtasks: number;
}

/** One short forced-tool-use call that decides ready | clarify | split (STUB until the triage work lands). */
export async function triageIssue(_p: {
  anthropic: Anthropic;
  model: string;
  pricing: Pricing;
  input: TriageInput;
  signal?: AbortSignal;
}): Promise<Omit<Triage, "round" | "at">> {
  throw new Error("triage is not implemented yet");
}
