import { abortError } from "./lock.js";

interface Queued<C> {
  promise: Promise<void>;
  controller: AbortController;
  waiters: number;
  /** what the callers of this run share besides it (BatchedHolds: their work) */
  context: C;
}

/**
 * Runs of one kind of work (a mirror's fetch) that callers share while the run has not started:
 * a caller arriving before it starts will still see everything that happened before it asked, so
 * it joins instead of queueing a run of its own behind the repository lock.
 *
 * The run has its own signal. One caller's abort must not fail the others, so it fires only when
 * every caller has stopped waiting; the last one to leave waits for the run to settle, so that
 * when an aborted call returns, no git process it asked for is still writing.
 */
export class SharedRuns<C = undefined> {
  private readonly queued = new Map<string, Queued<C>>();

  /** `context` makes what each run's callers share besides it, once per run. */
  constructor(private readonly context: () => C = () => undefined as C) {}

  /**
   * Joins the queued run for key, or queues a new one. `start` gets the run's signal and context
   * and must call `started()` once the work begins (a caller arriving after that needs a run of
   * its own). `enlist` gets the joined run's context before anything of the run can start.
   */
  async join(
    key: string,
    signal: AbortSignal | undefined,
    what: string,
    start: (runSignal: AbortSignal, started: () => void, context: C) => Promise<void>,
    enlist?: (context: C) => void,
  ): Promise<void> {
    if (signal?.aborted) throw abortError(signal, what);
    let run = this.queued.get(key);
    if (run) enlist?.(run.context);
    else run = this.queue(key, start, enlist);
    run.waiters += 1;
    try {
      await this.wait(run, key, signal, what);
    } finally {
      run.waiters -= 1;
    }
  }

  private queue(
    key: string,
    start: (runSignal: AbortSignal, started: () => void, context: C) => Promise<void>,
    enlist: ((context: C) => void) | undefined,
  ): Queued<C> {
    const controller = new AbortController();
    const run: Queued<C> = { promise: Promise.resolve(), controller, waiters: 0, context: this.context() };
    enlist?.(run.context);
    const leave = () => {
      if (this.queued.get(key) === run) this.queued.delete(key);
    };
    // Queued before start runs: start may call started() at once.
    this.queued.set(key, run);
    run.promise = start(controller.signal, leave, run.context);
    // Also when it failed before starting (the lock timed out): the next caller queues a new run.
    void run.promise.catch(() => undefined).finally(leave);
    return run;
  }

  private async wait(run: Queued<C>, key: string, signal: AbortSignal | undefined, what: string): Promise<void> {
    if (!signal) return run.promise;
    let onAbort!: () => void;
    const aborted = new Promise<"aborted">((resolve) => {
      onAbort = () => resolve("aborted");
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      if ((await Promise.race([run.promise, aborted])) !== "aborted") return;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    if (run.waiters === 1) {
      // The last caller: nobody needs the run any more. A caller arriving now queues a fresh one.
      if (this.queued.get(key) === run) this.queued.delete(key);
      run.controller.abort(signal.reason);
      await run.promise.catch(() => undefined);
    }
    throw abortError(signal, what);
  }
}
