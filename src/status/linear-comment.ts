import type { Task } from "../tasks/task.js";
import { isActive } from "../tasks/task.js";
import { taskStateLabel, triageLine, usageLine } from "./format.js";

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
    `${ICON[task.state]} **Agent: ${taskStateLabel(task)}**${task.step ? ` — ${task.step}` : ""}`,
    "",
  ];
  if (task.parent) lines.push(`- Part of ${task.parent.identifier}`);
  if (task.triage) lines.push(`- ${triageLine(task.triage)}`);
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
  lines.push(...treeLines(task));
  if (task.error) {
    lines.push("", `**What went wrong:** ${task.error}`);
    if (task.state === "failed" || task.state === "stopped") {
      lines.push(`Re-add the \`${p.agentLabel}\` label to try again.`);
    }
  }
  lines.push("", `<sub>agent-workforce · updated ${p.now.toISOString().replace(/\.\d+Z$/, "Z")}</sub>`);
  return lines.join("\n");
}

const MAX_CRITERIA = 8;

/** The criteria while the agent works, the questions or plan while it waits, a parent's sub-issues. */
export function treeLines(task: Task): string[] {
  const criteria = task.triage?.criteria ?? [];
  if (isActive(task.state) && criteria.length) {
    const more = criteria.length > MAX_CRITERIA ? [`- … and ${criteria.length - MAX_CRITERIA} more`] : [];
    return ["", "**Acceptance criteria:**", ...criteria.slice(0, MAX_CRITERIA).map((c, i) => `${i + 1}. ${c}`), ...more];
  }
  const plan = task.plan;
  if (task.state === "needs-input" && plan?.status === "proposed") {
    const n = plan.subtasks.length;
    return ["", `**Plan awaiting approval:** ${n} sub-issue${n === 1 ? "" : "s"}. Reply to the plan comment to approve it, or say what to change.`];
  }
  const c = task.clarification;
  if (task.state === "needs-input" && c?.open && c.questions.length) {
    const to = c.askedOf ? ` for ${c.askedOf}` : "";
    return ["", `**Questions before any code${to}:**`, ...c.questions.map((q, i) => `${i + 1}. ${q}`), "Reply to the question comment to answer."];
  }
  if ((task.state === "managing" || task.state === "done") && plan) {
    const live = plan.subtasks.filter((s) => !s.dropped);
    const ids = live.map((s) => s.identifier ?? s.title).join(", ");
    const dropped = plan.subtasks.length - live.length;
    const head = task.state === "done" ? "Every sub-issue finished" : `Managing ${live.length} sub-issue${live.length === 1 ? "" : "s"}`;
    const droppedNote = dropped ? ` (${dropped} cancelled or removed)` : "";
    return [`- ${head}${ids ? `: ${ids}` : ""}${droppedNote}. The roll-up comment tracks each one.`];
  }
  return [];
}
