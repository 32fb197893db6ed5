import type Anthropic from "@anthropic-ai/sdk";
import type { SplitPlan, SubtaskSpec, Triage, Usage } from "../tasks/task.js";
import { escapeData } from "./prompts.js";
import type { Pricing } from "./pricing.js";
import type { TriageInput } from "./triage.js";
import { callForcedTool, PaidAnswerError } from "./triage-call.js";
import { DATA_NOTE, issueContext, repoContext } from "./triage-input.js";
import { repairPlan } from "./triage-plan-repair.js";

/** The forced tool's name: tests route planning calls by it (test/helpers/triage.ts). */
export const PLAN_TOOL = "propose_plan";
// Six self-contained briefs with criteria fit in a few thousand tokens; the cap guards the bill.
const MAX_TOKENS = 8000;

/** The manager's proposal: the parent's goal, the agreed interfaces and the sub-issues. */
export interface ProposedPlan {
  goal: string;
  interfaces: string;
  subtasks: SubtaskSpec[];
  model: string;
  usage: Usage;
  costUsd: number;
  /** What had to be repaired in the model's plan (unknown or cyclic dependencies, extra sub-issues…), for the caller to log. */
  repairs?: string[];
}

function planTool(maxSubtasks: number) {
  const strings = (description: string) => ({ type: "array", items: { type: "string" }, description });
  const subtask = {
    type: "object",
    additionalProperties: false,
    properties: {
      key: { type: "string", pattern: "^s[0-9]+$", description: 'Stable id: "s1", "s2", …' },
      title: { type: "string", description: "A short issue title." },
      brief: {
        type: "string",
        description:
          "The sub-issue's description, a self-contained brief: the agent doing it sees only this, the goal and the interfaces.",
      },
      criteria: strings("Testable acceptance criteria of this sub-issue."),
      owns: strings("Files, directories or areas this sub-issue owns; no two sub-issues own the same file."),
      dependsOn: strings("Keys of the sub-issues whose merged code this one builds on."),
    },
    required: ["key", "title", "brief", "criteria", "owns", "dependsOn"],
  };
  return {
    name: PLAN_TOOL,
    description: "Propose the plan of sub-issues. Call it exactly once.",
    input_schema: {
      type: "object" as const,
      additionalProperties: false,
      properties: {
        goal: { type: "string", description: "The parent issue's goal in one paragraph; every sub-issue's agent reads it." },
        interfaces: {
          type: "string",
          description: "What the sub-issues agree on: names, signatures, data shapes and the files they live in.",
        },
        subtasks: { type: "array", minItems: 2, maxItems: maxSubtasks, items: subtask },
      },
      required: ["goal", "interfaces", "subtasks"],
    },
  };
}

function instructions(maxSubtasks: number): string {
  return `You are the lead who splits a large issue into sub-issues for coding agents. Each sub-issue
becomes its own Linear issue, branch and pull request, done by an agent that sees only its brief, the
parent's goal and the interfaces you write: never this conversation, the other sub-issues' work or their
transcripts. A sub-issue starts once every sub-issue it depends on is merged, from the base branch that
then holds their code; sub-issues without a dependency between them run in parallel.

Plan 2 to ${maxSubtasks} sub-issues:
- each a coherent piece one agent can finish and a reviewer can check in one pull request;
- owning separate files or areas, so parallel work does not conflict;
- with a dependency only where one really needs the other's merged code (no cycles), so as many as
  possible run in parallel;
- with briefs that stand alone: what to build, where, and how it fits the interfaces.
The interfaces name what the sub-issues share (functions and their signatures, types, files, formats),
so that parts built in parallel fit together. Keys are "s1", "s2", … Answer only by calling ${PLAN_TOOL}.

${DATA_NOTE}`;
}

function triageSection(t: Triage): string {
  const criteria = t.criteria.map((c, i) => `${i + 1}. ${c}`).join("\n");
  return `Triage's verdict on the whole issue (size ${t.size}):
<triage>
${escapeData(t.rationale)}
Acceptance criteria of the whole:
${escapeData(criteria)}
</triage>`;
}

function reviseSection(r: { previous: Pick<SplitPlan, "goal" | "interfaces" | "subtasks">; changes: string }): string {
  const previous = {
    goal: r.previous.goal,
    interfaces: r.previous.interfaces,
    subtasks: r.previous.subtasks.map(({ key, title, brief, criteria, owns, dependsOn }) => ({ key, title, brief, criteria, owns, dependsOn })),
  };
  return `
You proposed this plan earlier:
<previous_plan>
${escapeData(JSON.stringify(previous, null, 2))}
</previous_plan>
The humans asked for these changes:
<changes>
${escapeData(r.changes)}
</changes>
Revise the plan as they asked. Keep the key of every sub-issue you keep, even an edited one; give a new
sub-issue a key the previous plan did not use, and never reuse the key of one you removed.`;
}

/** The manager's forced-tool-use call that proposes (or once revises) a plan, repaired rather than refused when malformed. */
export async function planSplit(p: {
  anthropic: Anthropic;
  model: string;
  pricing: Pricing;
  input: TriageInput;
  triage: Triage;
  maxSubtasks: number;
  /** A human asked for changes: the previous plan and what they said. */
  revise?: { previous: Pick<SplitPlan, "goal" | "interfaces" | "subtasks">; changes: string };
  signal?: AbortSignal;
}): Promise<ProposedPlan & { repairs: string[] }> {
  const maxSubtasks = Math.max(2, p.maxSubtasks);
  const answer = await callForcedTool({
    anthropic: p.anthropic,
    model: p.model,
    pricing: p.pricing,
    tool: planTool(maxSubtasks),
    system: [instructions(maxSubtasks), repoContext(p.input)],
    user: `${p.revise ? "Revise the plan for" : "Plan"} this issue.\n\n${issueContext(p.input.issue, p.input.answers)}\n${triageSection(p.triage)}\n${
      p.revise ? reviseSection(p.revise) : ""
    }`,
    maxTokens: MAX_TOKENS,
    purpose: "The manager's planning",
    signal: p.signal,
  });
  let plan;
  try {
    plan = repairPlan(answer.input, { maxSubtasks, fallbackGoal: p.input.issue.title });
  } catch (err) {
    // The call was paid for all the same: the caller books it.
    throw new PaidAnswerError((err as Error).message, answer, { cause: err });
  }
  if (answer.cutOff) plan.repairs.unshift("the reply hit max_tokens, so the plan may be incomplete");
  return { ...plan, model: p.model, usage: answer.usage, costUsd: answer.costUsd };
}
