import type { PlannedSubtask, Task } from "../../src/tasks/task.js";
import type { WorkerDeps } from "../job-context.js";

/** A sub-issue's blockers and where each stands. */
export interface Blockers {
  parent: Task | null;
  /** Blockers not merged (nor dropped by a human) yet, by identifier or key. */
  open: string[];
  /** Blockers merged, with their tasks (their hand-off notes feed the dependant's prompt). */
  merged: Task[];
}

/**
 * Reads a child's blockers from the parent's plan and the children's task records. A blocker a
 * human dropped (cancelled, removed from the parent) no longer blocks; one merged is satisfied and
 * returned with its task. Everything is re-read from Redis, so a restart forgets nothing.
 */
export async function blockersOf(deps: Pick<WorkerDeps, "tasks">, child: Task): Promise<Blockers> {
  if (!child.parent) return { parent: null, open: [], merged: [] };
  const parent = await deps.tasks.get(child.parent.issueId);
  const plan = parent?.plan;
  if (!parent || !plan) return { parent, open: [], merged: [] };
  const own = plan.subtasks.find((s) => s.key === child.parent?.key);
  if (!own) return { parent, open: [], merged: [] };
  const open: string[] = [];
  const merged: Task[] = [];
  for (const key of own.dependsOn) {
    const sibling = plan.subtasks.find((s) => s.key === key);
    // A dependency on a key the plan no longer holds (a human removed it) blocks nothing.
    if (!sibling || sibling.dropped) continue;
    const task = sibling.issueId ? await deps.tasks.get(sibling.issueId) : null;
    if (task?.state === "merged") merged.push(task);
    else open.push(nameOf(sibling));
  }
  return { parent, open, merged };
}

/** How a blocker is named to people: its Linear identifier once created, else its plan key. */
function nameOf(s: PlannedSubtask): string {
  return s.identifier ?? s.key;
}
