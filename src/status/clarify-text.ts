import type { Clarification, Triage } from "../tasks/task.js";

// The words of triage where people read them: its verdict (a session `thought`), and the questions
// it asks before any code (a session elicitation, or a Linear comment on the label path). Pure text.

/** The step a task shows while triage's verdict is fresh: the session renders it as a `thought`. */
export const TRIAGED_STEP = "triaged";

const VERDICT: Record<Triage["verdict"], string> = {
  ready: "ready to delegate",
  clarify: "needs answers first",
  split: "too large for one agent: proposing sub-issues",
};

/** Triage's verdict, size, rationale and criteria, as the session's `thought` shows them. */
export function renderTriageThought(t: Triage): string {
  const lines = [`**Triage${t.round > 0 ? " (after your answers)" : ""}: ${VERDICT[t.verdict]}** · size ${t.size}`, "", oneParagraph(t.rationale)];
  if (t.criteria.length) lines.push("", "**Acceptance criteria**", ...t.criteria.map((c, i) => `${i + 1}. ${oneLine(c)}`));
  return lines.join("\n");
}

/** The questions in a session's elicitation: a reply in the session answers them. */
export function renderClarificationElicitation(c: Pick<Clarification, "questions">, identifier: string): string {
  return [`Before I write any code for ${identifier}, I need a few answers:`, "", ...numbered(c.questions), "", "Reply here with your answers; I'll start with them as part of the spec."].join("\n");
}

/**
 * The questions as a Linear comment on the label path, addressed to the creator by name;
 * a reply to it (or any comment on the issue while the task waits) answers.
 */
export function renderClarificationComment(c: Pick<Clarification, "questions" | "askedOf">, identifier: string): string {
  const to = c.askedOf ? `@${c.askedOf}, before` : "Before";
  return [
    `🤖 ${to} the agent writes any code for ${identifier}, it needs a few answers:`,
    "",
    ...numbered(c.questions),
    "",
    "**Reply to this comment to answer.** The agent then starts with your answers as part of the spec.",
  ].join("\n");
}

/** What the dashboard and logs say about the open questions, in one line. */
export function clarificationLine(c: Pick<Clarification, "questions" | "commentId">): string {
  const where = c.commentId ? "reply to the agent's comment on the Linear issue" : "answer in the Linear agent session";
  const first = c.questions[0] ? oneLine(c.questions[0]) : "";
  const more = c.questions.length > 1 ? ` (+${c.questions.length - 1} more)` : "";
  return `Triage asks: ${first}${more}; ${where}.`;
}

function numbered(questions: string[]): string[] {
  return questions.map((q, i) => `${i + 1}. ${oneLine(q)}`);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

function oneParagraph(s: string): string {
  return s.replace(/\n{2,}/g, "\n").trim();
}
