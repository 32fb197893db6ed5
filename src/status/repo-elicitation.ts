import type { RepoQuestion } from "../tasks/task.js";

/** A `select` elicitation as Linear takes it: Markdown body plus the options it renders as choices. */
export interface RepoElicitation {
  body: string;
  signalMetadata: { options: Array<{ label: string; value: string }> };
}

/**
 * Renders the "which repository?" question: why routing could not decide, what a previous answer
 * failed to match, and one option per candidate. An option's value is the plain owner/name, which
 * is what comes back as the prompt's body when a person picks it.
 */
export function renderRepoElicitation(q: RepoQuestion, identifier: string): RepoElicitation {
  const lines: string[] = [];
  if (q.unmatched) lines.push(`${quoteAnswer(q.unmatched.answer)} ${unmatchedNote(q.unmatched.among)}`, "");
  lines.push(
    `Which repository should I work in for ${identifier}? I'm asking rather than guessing because ${q.why}.`,
    "",
    ...q.candidates.map((c) => `- \`${c}\``),
    "",
    "Pick one, or reply with its `owner/name` or GitHub URL. I'll remember the choice for this issue.",
  );
  return { body: lines.join("\n"), signalMetadata: { options: q.candidates.map((c) => ({ label: c, value: c })) } };
}

/** What the dashboard and logs say about the question, in one line. */
export function repoQuestionLine(q: RepoQuestion): string {
  return `Which repository? ${q.candidates.join(" or ")} (${q.why}); answer in the Linear agent session.`;
}

function unmatchedNote(among: string[]): string {
  if (among.length > 1) return `could be any of ${among.map((r) => `\`${r}\``).join(", ")}, so I did not pick one.`;
  return "does not match any repository I may work in.";
}

// The person's words, shortened and kept from breaking the Markdown around them.
function quoteAnswer(answer: string): string {
  const oneLine = answer.replace(/\s+/g, " ").trim();
  const short = oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine;
  return `"${short.replace(/[`*_[\]<>]/g, "")}"`;
}
