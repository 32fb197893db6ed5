import { randomUUID } from "node:crypto";
import type { LinearClient } from "@linear/sdk";
import { upsertComment } from "../linear/comments.js";
import type { Task } from "../tasks/task.js";
import type { TaskStore } from "../tasks/task-store.js";
import { renderLinearProgress } from "./linear-comment.js";
import { publishSession } from "./session-publish.js";

/**
 * Shows the task where its humans look: its Linear agent session when a session asked for the
 * work (the session replaces the progress comment), the progress comment otherwise.
 */
export async function publishStatus(
  linear: LinearClient,
  p: { tasks: TaskStore; task: Task; agentLabel: string; now?: Date; publicUrl?: string },
): Promise<Task> {
  return p.task.session ? publishSession(linear, p) : publishProgress(linear, p);
}

/**
 * Renders the task into its Linear progress comment (created once, then edited in place). The
 * comment's id is recorded on the task before the comment exists, so a crash cannot leave a
 * second comment behind.
 */
export async function publishProgress(
  linear: LinearClient,
  p: { tasks: TaskStore; task: Task; agentLabel: string; now?: Date },
): Promise<Task> {
  let task = p.task;
  if (!task.progressCommentId) {
    task = await p.tasks.update(task.issueId, (t) => ({ progressCommentId: t.progressCommentId ?? randomUUID() }));
  }
  const body = renderLinearProgress(task, { agentLabel: p.agentLabel, now: p.now ?? new Date() });
  await upsertComment(linear, { issueId: task.issueId, commentId: task.progressCommentId as string, body });
  return task;
}

/**
 * A process-wide allowance of progress edits per minute: with many agents at once, live edits
 * share it and the rest wait for the next turn (state changes are published directly, outside it),
 * so the Linear request budget (about 2,500 an hour per key) is not spent on progress alone.
 */
export class EditBudget {
  private tokens: number;
  private last = Date.now();
  constructor(private readonly perMinute: number) {
    this.tokens = perMinute;
  }
  /** Takes one edit if the budget allows it now. */
  tryTake(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.perMinute, this.tokens + ((now - this.last) / 60_000) * this.perMinute);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * Calls `fn` at most once per interval (and only when the shared budget allows), always letting
 * the last call of a burst through on flush. With `doubleEvery`, the interval doubles after every
 * that many calls, up to `maxMs`: a long run's status stays live at first and then costs a
 * logarithmic number of requests (a 30-minute run about 20, not 120), within Linear's limits.
 */
export function throttle(
  intervalMs: number,
  fn: () => Promise<unknown>,
  budget?: EditBudget,
  backoff?: { doubleEvery: number; maxMs: number; now?: () => number },
): { poke(): void; flush(): Promise<void> } {
  const now = backoff?.now ?? Date.now;
  let last = 0;
  let runs = 0;
  let pending = false;
  let running: Promise<unknown> = Promise.resolve();
  const interval = () =>
    backoff ? Math.min(backoff.maxMs, intervalMs * 2 ** Math.floor(runs / backoff.doubleEvery)) : intervalMs;
  const run = () => {
    last = now();
    runs += 1;
    pending = false;
    running = running.then(fn).catch(() => undefined);
    return running;
  };
  return {
    poke() {
      if (now() - last >= interval() && (budget?.tryTake() ?? true)) void run();
      else pending = true;
    },
    async flush() {
      if (pending) await run();
      else await running;
    },
  };
}
