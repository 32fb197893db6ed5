import type Anthropic from "@anthropic-ai/sdk";
import { z } from "zod";
import type { IssueContext } from "../linear/issues.js";
import type { HumanAnswer, Triage } from "../tasks/tree.js";
import type { Pricing } from "./pricing.js";
import { callForcedTool, PaidAnswerError } from "./triage-call.js";
import { DATA_NOTE, issueContext, repoContext } from "./triage-input.js";

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

/** The forced tool's name: tests route triage calls by it (test/helpers/triage.ts). */
export const TRIAGE_TOOL = "record_triage";
const MAX_CRITERIA = 10;
const MAX_TOKENS = 1500;

/**
 * A verdict, plus what had to be repaired in the model's answer (for the caller to log; not part of
 * the record), and `noVerdict` when the model gave none at all (refused, or did not call the tool).
 */
export type TriageResult = Omit<Triage, "round" | "at"> & { repairs: string[]; noVerdict?: string };

function triageTool(allowSplit: boolean) {
  const verdicts = allowSplit ? ["ready", "clarify", "split"] : ["ready", "clarify"];
  const list = (description: string, extra: Record<string, unknown> = {}) => ({
    type: "array",
    items: { type: "string" },
    description,
    ...extra,
  });
  return {
    name: TRIAGE_TOOL,
    description: "Record the triage verdict for the issue. Call it exactly once.",
    input_schema: {
      type: "object" as const,
      additionalProperties: false,
      properties: {
        rationale: { type: "string", description: "One paragraph: why this verdict. Write it first." },
        verdict: { type: "string", enum: verdicts },
        criteria: list(
          "1 to 10 acceptance criteria: short, testable statements the finished work will be checked against.",
          { minItems: 1, maxItems: MAX_CRITERIA },
        ),
        size: { type: "string", enum: ["small", "medium", "large"] },
        questions: list("For clarify: the questions the humans must answer before any code (at least one). Otherwise empty."),
      },
      required: ["rationale", "verdict", "criteria", "size", "questions"],
    },
  };
}

function instructions(input: TriageInput): string {
  const split = input.allowSplit
    ? `- split: the work is large and divides into 2 to ${input.maxSubtasks} parts that separate agents could
  do and review on their own (different areas or files, a clear order). Prefer ready when one agent can do
  it in one pull request.`
    : "- (splitting is not possible here: this issue is already a part of a larger one)";
  return `You triage issues before a coding agent works on them. The agent works alone in the repository,
opens a pull request and cannot talk to anyone while it works. Decide, from the issue, its discussion,
the answers already given, and the repository's conventions and file tree:
- ready: the request is clear enough to do and to check.
- clarify: a wrong guess would waste the work (the goal, the expected behaviour or a decision is
  missing or contradictory). Ask the fewest, most specific questions that unblock it. Do not ask
  what the agent can find out by reading the code. When answers were given, use them; ask again
  only if they leave the work impossible to do right.
${split}
Write acceptance criteria for every verdict: testable statements about the finished work (behaviour,
tests, docs) that a reviewer can check. Estimate the size: small (an hour), medium (a day), large (more).
Answer only by calling ${TRIAGE_TOOL}.

${DATA_NOTE}`;
}

/** One short forced-tool-use call that decides ready | clarify | split, repairing a malformed verdict conservatively. */
export async function triageIssue(p: {
  anthropic: Anthropic;
  model: string;
  pricing: Pricing;
  input: TriageInput;
  signal?: AbortSignal;
}): Promise<TriageResult> {
  let answer;
  try {
    answer = await callForcedTool({
      anthropic: p.anthropic,
      model: p.model,
      pricing: p.pricing,
      tool: triageTool(p.input.allowSplit),
      system: [instructions(p.input), repoContext(p.input)],
      user: `Triage this issue.\n\n${issueContext(p.input.issue, p.input.answers)}`,
      maxTokens: MAX_TOKENS,
      purpose: "Triage",
      signal: p.signal,
    });
  } catch (err) {
    if (!(err instanceof PaidAnswerError)) throw err;
    // Triage is advice: without a verdict the agent goes ahead as before triage existed, rather
    // than failing the job and paying for the same refusal on every retry.
    const rationale = `triage gave no verdict: ${err.message}`;
    return { verdict: "ready", criteria: [], size: "medium", rationale, questions: [], repairs: [], noVerdict: err.message, model: p.model, usage: err.usage, costUsd: err.costUsd };
  }
  const verdict = repairVerdict(answer.input, p.input);
  if (answer.cutOff) verdict.repairs.unshift("the reply hit max_tokens, so the verdict may be incomplete");
  return { ...verdict, model: p.model, usage: answer.usage, costUsd: answer.costUsd };
}

const strings = z
  .array(z.unknown())
  .catch([])
  .transform((xs) => xs.filter((x): x is string => typeof x === "string").map((s) => s.trim()).filter(Boolean));

const Raw = z.object({
  verdict: z.enum(["ready", "clarify", "split"]).optional().catch(undefined),
  criteria: strings.optional(),
  size: z.enum(["small", "medium", "large"]).optional().catch(undefined),
  rationale: z.string().optional().catch(undefined),
  questions: strings.optional(),
});

type Verdict = Pick<Triage, "verdict" | "criteria" | "size" | "rationale" | "questions"> & { repairs: string[] };

/**
 * Validates the tool's input; what is wrong is repaired towards going ahead rather than failing
 * the job, since a retry would pay for the same call again: an unknown verdict, a split where none
 * is allowed or a clarify without questions become ready; missing criteria fall back to the issue itself.
 */
export function repairVerdict(input: unknown, ctx: Pick<TriageInput, "allowSplit" | "issue">): Verdict {
  const parsed = Raw.safeParse(input ?? {});
  const raw = parsed.success ? parsed.data : {};
  const repairs: string[] = parsed.success ? [] : ["the tool input was not an object"];
  let verdict = raw.verdict;
  if (!verdict) {
    repairs.push("no valid verdict: treated as ready");
    verdict = "ready";
  }
  if (verdict === "split" && !ctx.allowSplit) {
    repairs.push("split is not allowed for this issue: treated as ready");
    verdict = "ready";
  }
  const questions = raw.questions ?? [];
  if (verdict === "clarify" && questions.length === 0) {
    repairs.push("clarify without questions: treated as ready");
    verdict = "ready";
  }
  let criteria = raw.criteria ?? [];
  if (criteria.length === 0) {
    repairs.push("no acceptance criteria: used the issue's title");
    criteria = [`The issue "${ctx.issue.title}" is resolved as its description asks, and the project's checks pass.`];
  }
  if (criteria.length > MAX_CRITERIA) {
    repairs.push(`${criteria.length} criteria: kept the first ${MAX_CRITERIA}`);
    criteria = criteria.slice(0, MAX_CRITERIA);
  }
  if (!raw.size) repairs.push("no valid size: assumed medium");
  if (!raw.rationale?.trim()) repairs.push("no rationale");
  return {
    verdict,
    criteria,
    size: raw.size ?? "medium",
    rationale: raw.rationale?.trim() ?? "",
    questions: verdict === "clarify" ? questions : [],
    repairs,
  };
}
