import type { Task, TaskState } from "../tasks/task.js";

/** Every state, in the order a task usually moves through them (filter menus use this order). */
export const STATES: readonly TaskState[] = [
  "queued",
  "needs-input",
  "managing",
  "working",
  "checking",
  "pr-open",
  "revising",
  "merged",
  "done",
  "closed",
  "failed",
  "stopped",
];

/** The table's filters; null means "all". */
export interface TaskFilter {
  state: TaskState | null;
  /** "owner/name", lower-cased. */
  repo: string | null;
}

/** "owner/name" of a task's repository, or null before it was routed. */
export function repoName(t: Task): string | null {
  return t.repo ? `${t.repo.owner}/${t.repo.name}` : null;
}

/** Reads `?state=` and `?repo=`; an unknown state or malformed repository means no filter. */
export function parseFilter(query: unknown): TaskFilter {
  const q = (query && typeof query === "object" ? query : {}) as Record<string, unknown>;
  const state = typeof q.state === "string" && (STATES as readonly string[]).includes(q.state) ? (q.state as TaskState) : null;
  const repo = typeof q.repo === "string" && /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(q.repo) ? q.repo.toLowerCase() : null;
  return { state, repo };
}

/** The tasks that pass the filter, in their original order. */
export function applyFilter(tasks: readonly Task[], f: TaskFilter): Task[] {
  return tasks.filter(
    (t) => (f.state === null || t.state === f.state) && (f.repo === null || repoName(t)?.toLowerCase() === f.repo),
  );
}

/** Distinct repositories among the tasks, sorted, for the repository menu. */
export function reposOf(tasks: readonly Task[]): string[] {
  const names = new Map<string, string>();
  for (const t of tasks) {
    const name = repoName(t);
    if (name) names.set(name.toLowerCase(), name);
  }
  return [...names.values()].sort((a, b) => a.localeCompare(b));
}
