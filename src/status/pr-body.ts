import type { Task } from "../tasks/task.js";
import { usageLine } from "./format.js";

/** Pull request title: the issue's, prefixed with its identifier so Linear links the two. */
export function prTitle(task: Pick<Task, "identifier" | "title">): string {
  return `${task.identifier}: ${task.title}`;
}

/**
 * Pull request body: issue link (and the parent of a sub-issue), what the agent did, the acceptance
 * criteria with the agent's verdict on each, check results, turns, tokens and cost.
 */
export function renderPrBody(
  task: Task,
  p: {
    summary: string;
    model: string;
    agentHandle: string;
    limitNote: string | null;
    checksOutput: string | null;
    /** The repository's check command, if it has one: tells "not configured" from "did not run". */
    checkCommand?: string | null;
    /** Changed files the checks depend on: a pass means less when the agent edited them. */
    checkInputs?: readonly string[];
  },
): string {
  const criteria = task.triage?.criteria ?? [];
  // With criteria to answer, the report's own criteria section moves next to them.
  const report = criteria.length ? splitCriteriaReport(p.summary) : { rest: p.summary, lines: null };
  const parts = [`Resolves [${task.identifier}](${task.issueUrl ?? "#"}): ${task.title}`];
  if (task.parent) parts.push(`Part of ${task.parent.identifier}`);
  parts.push("", "## What the agent did", report.rest.trim() || "_The agent did not write a summary._");
  // A revision's report may not restate the criteria: the task's hand-off (the last full report) may.
  const lines = report.lines ?? (task.handoff ? splitCriteriaReport(task.handoff).lines : null);
  if (criteria.length) parts.push("", "## Acceptance criteria", criteriaList(criteria, lines));
  if (p.limitNote) parts.push("", `> [!WARNING]\n> ${p.limitNote}`);
  parts.push("", "## Checks");
  if (p.checkInputs?.length) {
    parts.push(
      `> [!CAUTION]\n> The agent changed files the checks depend on: ${p.checkInputs.map((f) => `\`${f}\``).join(", ")}. Review those changes before trusting the check result.`,
      "",
    );
  }
  if (!task.checks && p.checkCommand) {
    parts.push(`\`${p.checkCommand}\` did not run: the agent stopped before it finished${p.limitNote ? " (see the warning above)" : ""}, and checks run only on finished work.`);
  } else if (!task.checks) parts.push("No check command is configured for this repository.");
  else if (task.checks.passed) parts.push(`✅ \`${task.checks.command}\` passed.`);
  else {
    parts.push(`❌ \`${task.checks.command}\` still fails, so this pull request is not ready for review.`);
    if (p.checksOutput)
      parts.push(
        "",
        "<details><summary>Output (tail)</summary>",
        "",
        "```",
        p.checksOutput,
        "```",
        "</details>",
      );
  }
  parts.push(
    "",
    "## Cost",
    `${costLine(task)} (${p.model})`,
    "",
    `<sub>Opened by agent-workforce. Request changes in a review or mention ${p.agentHandle} in a comment to have the agent revise this pull request.</sub>`,
  );
  return parts.join("\n");
}

const k = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n));

// A compaction means the run outgrew its context window and went on from its own progress note:
// a reviewer should know that part of the work was done from a summary of the rest.
/** The Cost line: turns, tokens and dollars, then thinking tokens and context compactions when there were any. */
export function costLine(task: Pick<Task, "turns" | "usage" | "costUsd" | "context">): string {
  const compactions = task.context?.compactions ?? 0;
  return [
    usageLine(task),
    task.usage.thinking ? `${k(task.usage.thinking)} of the output thinking` : "",
    compactions ? `context compacted ${compactions === 1 ? "once" : `${compactions} times`}` : "",
  ]
    .filter(Boolean)
    .join(" · ");
}

const HEADING = /^#{1,6}\s/;
const CRITERIA_HEADING = /^#{1,6}\s*acceptance criteria\s*:?\s*$/i;

/** The report without its `## Acceptance criteria` section, and that section's non-empty lines (null: no section). */
export function splitCriteriaReport(summary: string): { rest: string; lines: string[] | null } {
  const all = summary.split("\n");
  const start = all.findIndex((l) => CRITERIA_HEADING.test(l.trim()));
  if (start < 0) return { rest: summary, lines: null };
  const after = all.slice(start + 1);
  const endAt = after.findIndex((l) => HEADING.test(l.trim()));
  const section = endAt < 0 ? after : after.slice(0, endAt);
  const rest = [...all.slice(0, start), ...(endAt < 0 ? [] : after.slice(endAt))].join("\n");
  return { rest, lines: section.map((l) => l.trim()).filter(Boolean) };
}

// "1. met: …", "- **2** — not met …", "Criterion 3: met …": the number the prompt asked for.
const NUMBERED = /^(?:[-*+]\s+)?(?:\*\*)?(?:criterion\s+)?(\d+)(?:\*\*)?[.):]?(?:\*\*)?\s*[-–—:]?\s*/i;

/** Whether a report line says the criterion is met: true, false, or null when it does not say. */
export function criterionMet(line: string): boolean | null {
  if (/\b(not\s+met|unmet|not\s+verified|partially)\b/i.test(line)) return false;
  return /\bmet\b/i.test(line) ? true : null;
}

/** The agent's line for each criterion: by the number it gave, else in order. */
export function matchCriteria(count: number, lines: readonly string[]): (string | null)[] {
  const numbered = new Map<number, string>();
  for (const l of lines) {
    const m = NUMBERED.exec(l);
    if (m && !numbered.has(Number(m[1]))) numbered.set(Number(m[1]), l.slice(m[0].length).trim());
  }
  const byOrder = numbered.size === 0;
  return Array.from({ length: count }, (_, i) => (byOrder ? (lines[i]?.replace(/^[-*+]\s+/, "") ?? null) : (numbered.get(i + 1) ?? null)));
}

/** The criteria as a numbered list, each with the agent's verdict and how it verified it. */
export function criteriaList(criteria: readonly string[], lines: readonly string[] | null): string {
  const said = lines ? matchCriteria(criteria.length, lines) : [];
  return criteria
    .map((c, i) => {
      const line = said[i] ?? null;
      const met = line === null ? null : criterionMet(line);
      const icon = met === true ? "✅" : met === false ? "❌" : "❔";
      return `${i + 1}. ${icon} ${c.trim()} — ${line ?? "_the agent's report does not say_"}`;
    })
    .join("\n");
}

/**
 * The revision's report as the next hand-off; a revision that does not restate the acceptance
 * criteria keeps the verdicts of the run before it, so the PR body does not lose them.
 */
export function keepCriteria(summary: string, previous: string | null): string | null {
  if (!summary) return previous;
  if (splitCriteriaReport(summary).lines) return summary;
  const before = previous ? splitCriteriaReport(previous).lines : null;
  return before ? `${summary.trimEnd()}\n## Acceptance criteria\n${before.join("\n")}` : summary;
}
