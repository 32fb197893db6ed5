import type { Job } from "bullmq";
import { estimateTokens, renderTreeContext } from "../../src/agent/child-brief.js";
import type { IssueContext } from "../../src/linear/issues.js";
import { canTransition } from "../../src/tasks/task.js";
import type { TaskContext } from "../job-context.js";
import type { ImplementJobData } from "../queues.js";
import { blockersOf } from "./blockers.js";
import { treeBudgetLeft } from "./tree-budget.js";
import { queueWaitingTriage } from "./triage-waiting.js";

/**
 * A sub-issue whose blockers are not all merged yet does not start: true means the job ends here,
 * the task showing what it waits for (it holds no slot; the manager's tick enqueues a new implement
 * job once they merge). It also does not start once the tree's budget stopped new children.
 */
export async function awaitBlockers(c: TaskContext, job: Job<ImplementJobData>): Promise<boolean> {
  const task = c.task();
  if (!task.parent) return false;
  const { parent, open } = await blockersOf(c.deps, task);
  // A retry of a job that already started this child finishes it: its session's budget is capped
  // by what the tree has left (see tree-budget), so it cannot overspend.
  const started = task.jobId === job.id && task.startedAt !== null && task.state !== "queued";
  const plan = parent?.plan;
  // The tick marks the plan once the budget is spent; a child that asks first is refused too.
  const stoppedAt = plan?.budgetStoppedAt ?? ((await treeBudgetLeft(c.deps, task)) === 0 ? "now" : null);
  if (plan && stoppedAt && !started) {
    const why = `not started: the tree budget of ${task.parent.identifier} ($${plan.budgetUsd.toFixed(2)}) is used up`;
    await c.save({ step: why });
    await c.publish();
    c.log.info({ parent: task.parent.identifier, budgetStoppedAt: stoppedAt }, "the parent's tree budget is used up; the sub-issue does not start");
    return true;
  }
  if (open.length === 0) return false;
  const step = `waiting for ${open.join(", ")} to merge`;
  await c.save({ ...(canTransition(task.state, "queued") ? { state: "queued" as const } : {}), step });
  await c.publish();
  // Its triage need not wait with it (answered questions re-triage here too): the start skips it.
  if (parent) await queueWaitingTriage(c.deps, parent, [c.task()]);
  c.log.info({ parent: task.parent.identifier, open }, "the sub-issue waits for its blockers to merge; the manager starts it once they have");
  return true;
}

/**
 * A sub-issue's context from its tree for the prompt: the parent's goal, the interfaces the plan
 * agreed and its merged blockers' hand-off notes (their reports, trimmed; never a transcript),
 * recorded on the task as state-transfer tokens. Null for a task that is not a sub-issue.
 */
export async function subtaskContext(c: TaskContext, issue: IssueContext): Promise<string | null> {
  const task = c.task();
  if (!task.parent) return null;
  const { parent, merged } = await blockersOf(c.deps, task);
  const plan = parent?.plan;
  if (!plan) {
    c.log.warn({ parent: task.parent.identifier }, "the sub-issue's parent has no plan; running on its own brief alone");
    return null;
  }
  const tree = renderTreeContext({
    parent: { identifier: task.parent.identifier, goal: plan.goal, interfaces: plan.interfaces },
    notes: merged.map((t) => ({ identifier: t.identifier, title: t.title, note: t.handoff ?? "" })),
  });
  const brief = estimateTokens(issue.description);
  const notes = estimateTokens(tree);
  await c.save({ transfer: { brief, notes, tokens: brief + notes } });
  c.log.info({ transfer: { brief, notes }, blockers: merged.map((t) => t.identifier) }, "sub-issue context from its tree (estimated tokens)");
  return tree;
}
