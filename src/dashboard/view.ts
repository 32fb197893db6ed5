import type { Deps } from "../deps.js";
import type { Task } from "../tasks/task.js";
import { computeFigures, type Figures, needsYou, type NeedsYouItem } from "./figures.js";
import { applyFilter, reposOf, type TaskFilter } from "./filters.js";
import { readQueuedJobs, withQueuedJobs } from "./queued.js";

/** Figures cover the most recently updated tasks up to this many. */
export const TASK_LIMIT = 1000;

/** What the page, the JSON API and the event snapshot all show. */
export interface DashboardView {
  all: Task[];
  shown: Task[];
  repos: string[];
  filter: TaskFilter;
  /** Workforce-wide: the filters narrow the table, not the figures. */
  figures: Figures;
  needs: NeedsYouItem[];
}

/** What reading the view needs. */
export type ViewDeps = Pick<Deps, "tasks" | "spend" | "config" | "queues">;

/**
 * The tasks as the dashboard shows them (queued jobs without a record first: `fresh` of them) and
 * today's spend.
 */
export async function loadTasks(deps: ViewDeps): Promise<{ all: Task[]; fresh: number; todayUsd: number }> {
  const [tasks, jobs, todayUsd] = await Promise.all([deps.tasks.list(TASK_LIMIT), readQueuedJobs(deps.queues), deps.spend.day()]);
  const all = withQueuedJobs(tasks, jobs, Date.now());
  return { all, fresh: all.length - tasks.length, todayUsd };
}

/**
 * Reads tasks, the agent jobs no worker has picked up yet (they have no task, or only a finished
 * one) and today's spend, and computes everything the dashboard shows.
 */
export async function loadView(deps: ViewDeps, filter: TaskFilter): Promise<DashboardView> {
  const { all, todayUsd } = await loadTasks(deps);
  return {
    all,
    shown: applyFilter(all, filter),
    repos: reposOf(all),
    filter,
    figures: computeFigures(all, { todayUsd, dailyBudgetUsd: deps.config.agent.dailyBudgetUsd }),
    needs: needsYou(all),
  };
}

/** The JSON form of a view: filtered tasks, figures and the "needs you" list by issue. */
export function viewJson(v: DashboardView) {
  return {
    filter: v.filter,
    figures: v.figures,
    needsYou: v.needs.map((n) => ({
      kind: n.kind,
      reason: n.reason,
      since: n.since,
      issueId: n.task.issueId,
      identifier: n.task.identifier,
    })),
    tasks: v.shown,
  };
}
