import type { Task } from "../../src/tasks/task.js";
import type { WorkerDeps } from "../job-context.js";

/**
 * What is left of a sub-issue's tree budget: the parent plan's budget less the manager's own
 * model calls and every child's spend so far (read from the children's task records, dropped ones
 * included: their spend happened). Null for a task that is not a sub-issue, whose parent has no
 * plan, or whose plan has no budget (0, as the roll-up and the tick read it): only the job's budget
 * applies then.
 */
export async function treeBudgetLeft(deps: Pick<WorkerDeps, "tasks">, child: Pick<Task, "parent">): Promise<number | null> {
  if (!child.parent) return null;
  const plan = (await deps.tasks.get(child.parent.issueId))?.plan;
  if (!plan || plan.budgetUsd <= 0) return null;
  const children = await Promise.all(plan.subtasks.map((s) => (s.issueId ? deps.tasks.get(s.issueId) : null)));
  const spent = plan.manager.costUsd + children.reduce((sum, t) => sum + (t?.costUsd ?? 0), 0);
  return Math.max(0, plan.budgetUsd - spent);
}
