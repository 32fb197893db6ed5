import type { Task, TaskState } from "../../src/tasks/task.js";
import type { WorkerDeps } from "../job-context.js";

/** States in which a child's agent runs and spends: each takes a share of what the tree has left. */
const SPENDING: ReadonlySet<TaskState> = new Set<TaskState>(["working", "checking", "revising"]);

/**
 * What a sub-issue may spend of its tree's budget: the parent plan's budget less the manager's own
 * model calls and every child's spend so far (read from the children's task records, dropped ones
 * included: their spend happened), divided among the tree's children running now (this one counted
 * once, running or not), so that children running side by side cannot each spend the whole
 * remainder. Null for a task that is not a sub-issue, whose parent has no plan, or whose plan has
 * no budget (0, as the roll-up and the tick read it): only the job's budget applies then.
 */
export async function treeBudgetLeft(deps: Pick<WorkerDeps, "tasks">, child: Pick<Task, "parent" | "issueId">): Promise<number | null> {
  if (!child.parent) return null;
  const plan = (await deps.tasks.get(child.parent.issueId))?.plan;
  if (!plan || plan.budgetUsd <= 0) return null;
  const children = await Promise.all(plan.subtasks.map((s) => (s.issueId ? deps.tasks.get(s.issueId) : null)));
  const spent = plan.manager.costUsd + children.reduce((sum, t) => sum + (t?.costUsd ?? 0), 0);
  const running = new Set(children.filter((t): t is Task => Boolean(t && SPENDING.has(t.state))).map((t) => t.issueId));
  running.add(child.issueId);
  return Math.max(0, plan.budgetUsd - spent) / running.size;
}
