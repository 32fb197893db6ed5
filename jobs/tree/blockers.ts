import type { Task } from "../../src/tasks/task.js";
import type { WorkerDeps } from "../job-context.js";

/** A sub-issue's blockers and where each stands. */
export interface Blockers {
  parent: Task | null;
  /** Blockers not merged (nor dropped by a human) yet, by identifier or key. */
  open: string[];
  /** Blockers merged, with their tasks (their hand-off notes feed the dependant's prompt). */
  merged: Task[];
}

/** Reads a child's blockers from the parent's plan and the children's task records (STUB). */
export async function blockersOf(_deps: Pick<WorkerDeps, "tasks">, _child: Task): Promise<Blockers> {
  return { parent: null, open: [], merged: [] };
}
