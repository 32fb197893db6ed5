import type { LinearClient } from "@linear/sdk";
import { upsertComment } from "../linear/comments.js";
import type { Task } from "../tasks/task.js";
import type { TaskStore } from "../tasks/task-store.js";
import { renderLinearProgress } from "./linear-comment.js";

/**
 * Renders the task into its Linear progress comment (created once, then edited in place) and
 * remembers the comment id on the task.
 */
export async function publishProgress(
  linear: LinearClient,
  p: { tasks: TaskStore; task: Task; agentLabel: string; now?: Date },
): Promise<Task> {
  const body = renderLinearProgress(p.task, { agentLabel: p.agentLabel, now: p.now ?? new Date() });
  const id = await upsertComment(linear, {
    issueId: p.task.issueId,
    commentId: p.task.progressCommentId,
    body,
  });
  if (id === p.task.progressCommentId) return p.task;
  return p.tasks.update(p.task.issueId, () => ({ progressCommentId: id }));
}

/** Calls `fn` at most once per `intervalMs`, always letting the last call of a burst through on flush. */
export function throttle(
  intervalMs: number,
  fn: () => Promise<unknown>,
): { poke(): void; flush(): Promise<void> } {
  let last = 0;
  let pending = false;
  let running: Promise<unknown> = Promise.resolve();
  const run = () => {
    last = Date.now();
    pending = false;
    running = running.then(fn).catch(() => undefined);
    return running;
  };
  return {
    poke() {
      if (Date.now() - last >= intervalMs) void run();
      else pending = true;
    },
    async flush() {
      if (pending) await run();
      else await running;
    },
  };
}
