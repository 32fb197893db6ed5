import type { LinearClient } from "@linear/sdk";
import type { Job } from "bullmq";
import type { Clients, Deps } from "../src/deps.js";
import type { Logger } from "../src/logger.js";
import { publishStatus } from "../src/status/publish.js";
import { type Task, workspaceOf } from "../src/tasks/task.js";
import { queueTick } from "./tree/queue-tree.js";

export type WorkerDeps = Deps & { clients: Clients };

/** What a processor needs while it works on one issue's task. */
export interface TaskContext {
  deps: WorkerDeps;
  log: Logger;
  linear: LinearClient;
  /** Aborted by BullMQ's signal, by a cancel from any process, or by `abort`. */
  signal: AbortSignal;
  /**
   * Stops the job's run from inside the process (e.g. a lease it needs ran out): everything bound
   * to `signal` stops. The reason decides how the failure is classified (see classifyFailure).
   */
  abort(reason: Error): void;
  issueId: string;
  task(): Task;
  save(patch: Partial<Task>): Promise<Task>;
  /**
   * Renders the task into its Linear agent session, or else the progress comment (edited in
   * place). `final` uses a client not bound to the job's signal, so a stopped job can still say
   * that it stopped.
   */
  publish(final?: boolean): Promise<void>;
  /** Unlinks the cancellation; call when the job ends. */
  done(): void;
}

/**
 * Links the job's AbortSignal with cross-process cancellation for the issue and gives the
 * processor task accessors that keep the in-memory copy current.
 */
export function taskContext(deps: WorkerDeps, job: Job, issueId: string, initial: Task, signal?: AbortSignal): TaskContext {
  const ctrl = new AbortController();
  const forward = () => ctrl.abort(signal?.reason);
  if (signal?.aborted) forward();
  signal?.addEventListener("abort", forward, { once: true });
  const unregister = deps.cancellation.register(issueId, ctrl);
  // A task is served by its own workspace's client (the OAuth app acts per organization).
  const linear = deps.clients.linear(ctrl.signal, workspaceOf(initial));
  let task = initial;
  // A sub-issue's parent rolls up its state: one tick per state it shows (started, PR open, failed…).
  let rolledUp = initial.state;
  const ctx: TaskContext = {
    deps,
    log: deps.logger.child({ jobId: job.id, queue: job.queueName, issue: initial.identifier }),
    linear,
    signal: ctrl.signal,
    abort(reason) {
      if (!ctrl.signal.aborted) ctrl.abort(reason);
    },
    issueId,
    task: () => task,
    async save(patch) {
      task = await deps.tasks.update(issueId, () => patch);
      return task;
    },
    async publish(final = false) {
      if (task.parent && task.state !== rolledUp) {
        rolledUp = task.state;
        await queueTick(deps.queues, task.parent.issueId, `${task.identifier} ${task.state}`);
      }
      const client = final ? deps.clients.linear(undefined, workspaceOf(task)) : linear;
      task = await publishStatus(client, { tasks: deps.tasks, task, agentLabel: deps.config.agentLabel, publicUrl: deps.config.publicUrl });
    },
    done() {
      unregister();
      signal?.removeEventListener("abort", forward);
    },
  };
  return ctx;
}
