import type { Task } from "../tasks/task.js";
import { usageLine } from "./format.js";

/** Pull request title: the issue's, prefixed with its identifier so Linear links the two. */
export function prTitle(task: Pick<Task, "identifier" | "title">): string {
  return `${task.identifier}: ${task.title}`;
}

/** Pull request body: issue link, what the agent did, check results, turns, tokens and cost. */
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
  const parts = [
    `Resolves [${task.identifier}](${task.issueUrl ?? "#"}): ${task.title}`,
    "",
    "## What the agent did",
    p.summary.trim() || "_The agent did not write a summary._",
  ];
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
