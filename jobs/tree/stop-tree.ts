import { FINISHED } from "../../src/status/rollup.js";
import type { Task } from "../../src/tasks/task.js";
import type { WorkerDeps } from "../job-context.js";
import type { CancelJobData } from "../queues.js";
import { loadChildren } from "./tick.js";

/**
 * A managed parent whose label was removed, or which was stopped or cancelled in Linear: its
 * work is its sub-issues', so each that has not finished is stopped too (the same path a stop of
 * that sub-issue takes), and the parent says so. Completion is not a stop: the tick completes the
 * parent itself once every child finished.
 */
export async function stopTree(deps: Pick<WorkerDeps, "tasks" | "redis" | "config">, parent: Task, data: CancelJobData, reason: string, cancelOne: (d: CancelJobData) => Promise<string>): Promise<{ parent: Task; stopped: string[] }> {
  const children = await loadChildren(deps, parent);
  const open = children.filter((c) => c.task && !FINISHED.has(c.phase) && c.task.state !== "stopped");
  const stopped: string[] = [];
  for (const child of open) {
    const task = child.task as Task;
    // An uninstalled app can no longer write to (or read) that workspace: the children stop as the
    // parent did, publishing and ticking nothing there.
    const why = data.reason === "app-revoked" ? "app-revoked" : "parent-stopped";
    await cancelOne({ ...data, kind: "cancel", issueId: task.issueId, identifier: task.identifier, reason: why });
    stopped.push(task.identifier);
  }
  const updated = await deps.tasks.update(parent.issueId, () => ({
    state: "stopped",
    step: null,
    error:
      `Stopped because ${reason}` +
      (stopped.length ? `; its unfinished sub-issues (${stopped.join(", ")}) were stopped too. ` : ". ") +
      "Label the issue again to resume managing its sub-issues; label a stopped sub-issue again to restart it.",
    finishedAt: new Date().toISOString(),
  }));
  return { parent: updated, stopped };
}
