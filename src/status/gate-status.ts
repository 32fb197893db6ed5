import { CHECK_OUTPUT_MAX, fitUtf8 } from "../github/check-runs.js";
import type { Landed, Task } from "../tasks/task.js";
import { costLine } from "./pr-body.js";

/** Where the quality gate stands on a PR head: an agent still works, or its result. */
export type GateState = "in_progress" | "success" | "failure" | "error";

/**
 * The quality gate as the PR shows it (a check run with an App, a commit status with a token):
 * `title` is the one line both show, `summary` and `text` the check run's page.
 */
export interface Gate {
  state: GateState;
  title: string;
  summary: string;
  /** The failing check's output, when there is one. */
  text?: string;
  detailsUrl?: string;
}

/** The repository's check command, which tells "not configured" from "did not run". */
interface CheckSetting {
  checkCommand?: string | null;
}

/** The gate once the implement job opened or updated the pull request. */
export function implementedGate(task: Task, landed: Landed, p: CheckSetting): Gate {
  const failed = checksFailed(landed);
  return finished(task, landed, p, failed ? "Agent finished; checks still fail" : "Agent finished; awaiting review");
}

/** The gate while a revision works on the pull request (its step says what it addresses). */
export function revisingGate(task: Task): Gate {
  return {
    state: "in_progress",
    title: "Agent is revising this pull request",
    summary: lines([
      `${issueLink(task)}: the agent is ${task.step ?? "revising this pull request"}.`,
      "",
      `So far: ${costLine(task)}.`,
    ]),
    ...details(task),
  };
}

/** The gate once a revision pushed (or found nothing to change) and answered the feedback. */
export function revisedGate(task: Task, landed: Landed, p: CheckSetting): Gate {
  const failed = checksFailed(landed);
  return finished(task, landed, p, failed ? "Agent revised; checks still fail" : "Agent revised; awaiting review");
}

/** The gate after a revision failed or was stopped: the reason where reviewers look. */
export function revisionEndedGate(task: Task): Gate {
  const what = task.state === "failed" ? "Agent revision failed" : "Agent revision stopped";
  const why = task.error ?? "see the Linear issue";
  return {
    state: "error",
    title: `${what}: ${why}`,
    summary: lines([`${issueLink(task)}: ${what.toLowerCase().replace(/^agent/, "the agent's")}.`, "", why, "", `Spent: ${costLine(task)}.`]),
    ...details(task),
  };
}

function finished(task: Task, landed: Landed, p: CheckSetting, title: string): Gate {
  const failed = checksFailed(landed);
  const output = failed ? (landed.checks?.output ?? null) : null;
  return {
    state: failed ? "failure" : "success",
    title,
    summary: lines([
      `${issueLink(task)}: ${task.prNumber ? `pull request #${task.prNumber}` : "the pull request"} is ${failed ? "not ready for review" : "ready for review"}.`,
      "",
      checksLine(landed, p),
      ...(landed.limitNote ? ["", `> [!WARNING]\n> ${landed.limitNote}`] : []),
      "",
      `Cost: ${costLine(task)}.`,
    ]),
    ...(output ? { text: outputText(landed.checks?.command ?? "the checks", output) } : {}),
    ...details(task),
  };
}

function checksFailed(landed: Landed): boolean {
  return landed.checks !== null && !landed.checks.passed;
}

function checksLine(landed: Landed, p: CheckSetting): string {
  const c = landed.checks;
  if (c) return c.passed ? `✅ \`${c.command}\` passed.` : `❌ \`${c.command}\` still fails${c.output ? "; its output is below" : ""}.`;
  if (p.checkCommand) return `\`${p.checkCommand}\` did not run: the agent stopped before it finished, and checks run only on finished work.`;
  return "No check command is configured for this repository.";
}

function issueLink(task: Task): string {
  return task.issueUrl ? `[${task.identifier}](${task.issueUrl})` : task.identifier;
}

function details(task: Task): { detailsUrl?: string } {
  return task.issueUrl ? { detailsUrl: task.issueUrl } : {};
}

/** The failing check's output in a code block, its tail kept when it must be cut to GitHub's limit. */
export function outputText(command: string, output: string): string {
  const head = `Output of \`${command}\` (tail):\n\n`;
  // A fence longer than any backtick run in the output, so the output cannot close it early.
  let longest = 2;
  for (const m of output.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const ticks = "`".repeat(longest + 1);
  const room = CHECK_OUTPUT_MAX - Buffer.byteLength(head) - 2 * (ticks.length + 1);
  return `${head}${ticks}\n${fitUtf8(output, room, "tail", "[… earlier output cut to fit GitHub's limit …]\n")}\n${ticks}`;
}

function lines(parts: string[]): string {
  return parts.filter((l, i, all) => l !== "" || (i > 0 && all[i - 1] !== "")).join("\n");
}
