import type { Task } from "../tasks/task.js";
import { STATE_LABEL, usageLine } from "./format.js";

const ICON: Record<Task["state"], string> = {
  queued: "⏳",
  "needs-input": "❓",
  managing: "🗂️",
  done: "✅",
  working: "🛠️",
  checking: "🧪",
  "pr-open": "👀",
  revising: "🛠️",
  merged: "✅",
  closed: "🚫",
  failed: "❌",
  stopped: "⏹️",
};

/** The progress comment on the Linear issue, rendered from the task so surfaces cannot disagree. */
export function renderLinearProgress(task: Task, p: { agentLabel: string; now: Date }): string {
  const lines = [
    `${ICON[task.state]} **Agent: ${STATE_LABEL[task.state]}**${task.step ? ` — ${task.step}` : ""}`,
    "",
  ];
  if (task.repo) {
    lines.push(
      `- Repository: \`${task.repo.owner}/${task.repo.name}\`${task.branch ? `, branch \`${task.branch}\`` : ""}`,
    );
  }
  if (task.prUrl) lines.push(`- Pull request: [#${task.prNumber}](${task.prUrl})`);
  if (task.checks) {
    lines.push(`- Checks: \`${task.checks.command}\` ${task.checks.passed ? "passed" : "failed"}`);
  }
  if (task.turns > 0) lines.push(`- Usage: ${usageLine(task)}`);
  if (task.attempts > 1) lines.push(`- Attempt ${task.attempts}`);
  if (task.error) {
    lines.push("", `**What went wrong:** ${task.error}`);
    if (task.state === "failed" || task.state === "stopped") {
      lines.push(`Re-add the \`${p.agentLabel}\` label to try again.`);
    }
  }
  lines.push("", `<sub>agent-workforce · updated ${p.now.toISOString().replace(/\.\d+Z$/, "Z")}</sub>`);
  return lines.join("\n");
}
