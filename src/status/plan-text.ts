import type { PlannedSubtask, SplitPlan, SubtaskSpec } from "../tasks/task.js";

// The words of a manager's plan where people read it: the proposal they approve (a Linear comment
// on the label path, an elicitation in a session), and each sub-issue's description. Pure text.

type PlanText = Pick<SplitPlan, "goal" | "interfaces" | "revisions"> & { subtasks: SubtaskSpec[] };

/** A sub-issue's brief in the proposal is cut here: the full brief goes into the sub-issue itself. */
const SHORT_BRIEF = 400;

/** Replies that approve a plan, matched against the whole answer (case and surrounding punctuation ignored). */
export const APPROVAL_WORDS = ["approve", "approved", "yes", "lgtm", "ok", "okay", "go", "👍"] as const;

/** Whether a human's answer approves the plan: the whole answer is one approval word. */
export function isApproval(body: string): boolean {
  const word = body
    .trim()
    .toLowerCase()
    .replace(/^[\s*_`"'“”.!,:;-]+|[\s*_`"'“”.!,:;-]+$/gu, "");
  return (APPROVAL_WORDS as readonly string[]).includes(word) || /^(👍\s*)+$/u.test(word);
}

/** The plan as a proposal: goal, interfaces and each sub-issue, then how to approve or change it. */
export function renderPlanProposal(plan: PlanText): string {
  return `${renderPlanBody(plan)}\n\n${approvalLine(plan)}`;
}

/** The plan itself, without the approval instructions. */
export function renderPlanBody(plan: PlanText): string {
  const n = plan.subtasks.length;
  const head = plan.revisions > 0 ? `**Revised plan: ${n} sub-issues** (changed as you asked)` : `**Proposed plan: ${n} sub-issues**`;
  const lines = [head, "", `**Goal.** ${oneParagraph(plan.goal)}`];
  if (plan.interfaces.trim()) lines.push("", "**Interfaces the sub-issues agree on**", "", plan.interfaces.trim());
  plan.subtasks.forEach((s, i) => lines.push("", ...subtaskLines(s, i, plan.subtasks)));
  return lines.join("\n");
}

/** How to answer the proposal; after the one revision, changes are no longer taken. */
export function approvalLine(plan: Pick<SplitPlan, "revisions">): string {
  if (plan.revisions > 0) {
    return "Reply **approve** to create these sub-issues. I revise a plan only once: for further changes, edit the sub-issues once they exist, or remove the label to stop.";
  }
  return "Reply **approve** to create these sub-issues, or reply with the changes you want (I revise the plan once).";
}

/** The answer to a second request for changes: no new plan, approve or stop. */
export function revisedOnceReply(): string {
  return "I revised this plan once already, so I won't change it again. Reply **approve** to create the sub-issues as proposed (you can edit them in Linear afterwards), or remove the label to stop.";
}

/**
 * A sub-issue's Linear description: a self-contained brief (the child agent sees this and nothing
 * of the manager's conversation), its criteria, what it owns, and where it sits in the tree.
 */
export function subIssueDescription(s: SubtaskSpec, p: { parentIdentifier: string; dependsOn: string[] }): string {
  const lines = [s.brief.trim()];
  if (s.criteria.length) lines.push("", "## Acceptance criteria", "", ...s.criteria.map((c) => `- ${c}`));
  if (s.owns.length) lines.push("", "## Owns", "", ...s.owns.map((o) => `- \`${o}\``));
  const after = p.dependsOn.length ? `; depends on ${p.dependsOn.join(", ")}` : "; depends on no other sub-issue";
  lines.push("", `Part of ${p.parentIdentifier}${after}.`);
  return lines.join("\n");
}

/** How a subtask is named where its Linear issue may not exist yet: its identifier, else its title. */
export function subtaskName(s: Pick<PlannedSubtask, "identifier" | "title">): string {
  return s.identifier ?? `"${s.title}"`;
}

function subtaskLines(s: SubtaskSpec, i: number, all: SubtaskSpec[]): string[] {
  const deps = s.dependsOn.map((k) => {
    const at = all.findIndex((o) => o.key === k);
    return at === -1 ? k : `${at + 1}`;
  });
  const lines = [`**${i + 1}. ${oneLine(s.title)}**${deps.length ? ` · after ${deps.join(", ")}` : " · can start at once"}`, shorten(oneParagraph(s.brief), SHORT_BRIEF)];
  if (s.criteria.length) lines.push(...s.criteria.map((c) => `- ${oneLine(c)}`));
  if (s.owns.length) lines.push(`Owns: ${s.owns.map((o) => `\`${oneLine(o)}\``).join(", ")}`);
  return lines;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

function oneParagraph(s: string): string {
  return oneLine(s);
}

function shorten(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1).trimEnd()}…` : s;
}
