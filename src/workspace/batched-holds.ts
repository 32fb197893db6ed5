import { abortError } from "./lock.js";
import { SharedRuns } from "./shared-fetch.js";

interface Item {
  /** set when its caller stopped waiting before the hold began: it must never run */
  cancelled: boolean;
  signal: AbortSignal | undefined;
  /** set once it runs */
  running?: Promise<void>;
  run: () => Promise<void>;
}

interface Batch {
  items: Item[];
}

/**
 * One hold of a repository's lock for every job that queued before it was taken: the hold runs one
 * fetch for all of them (it started after each asked, so each sees what was pushed before), then
 * each job's own work side by side (`git worktree add`s of different jobs may overlap each other,
 * only never a fetch). Waiting is shared as in SharedRuns: the hold is given up only when every
 * caller has aborted.
 */
export class BatchedHolds {
  // Each run carries its own batch: a run given up takes its batch with it.
  private readonly runs = new SharedRuns<Batch>(() => ({ items: [] }));

  /**
   * Runs `work` in the next hold for key. `hold(runSignal, body)` takes the lock and runs body in
   * it; body first runs `before` once for the whole hold (the first caller's: a fetch), then every
   * caller's work. `work` should use the caller's own signal, so one abort stops only its own work.
   */
  async run<T>(
    key: string,
    o: {
      signal: AbortSignal | undefined;
      what: string;
      hold: (runSignal: AbortSignal, body: () => Promise<void>) => Promise<void>;
      before?: (runSignal: AbortSignal) => Promise<void>;
    },
    work: () => Promise<T>,
  ): Promise<T> {
    const { signal, what, hold, before } = o;
    if (signal?.aborted) throw abortError(signal, what);
    let outcome: { value: T } | { error: unknown } | undefined;
    const item: Item = {
      cancelled: false,
      signal,
      run: async () => {
        try {
          outcome = { value: await work() };
        } catch (error) {
          outcome = { error };
        }
      },
    };
    try {
      await this.runs.join(
        key,
        signal,
        what,
        (runSignal, started, batch) =>
          hold(runSignal, async () => {
            started();
            // A lock that ignored an abort still runs none of the work its callers gave up.
            if (runSignal.aborted) return;
            // Its failure fails every caller of this hold, as a failed shared fetch should.
            await before?.(runSignal);
            const live = batch.items.filter((i) => !i.cancelled && !i.signal?.aborted);
            await Promise.all(live.map((i) => (i.running = i.run())));
          }),
        (batch) => batch.items.push(item),
      );
    } catch (err) {
      // Aborted, or the lock was not taken: never run later; if it is running, let git stop first.
      item.cancelled = true;
      await item.running;
      // It ran to the end after all (its caller aborted while others' work held the lock): the
      // result is the caller's to clean up, not a leak.
      if (outcome && "value" in outcome) return outcome.value;
      throw err;
    }
    if (!outcome && signal?.aborted) throw abortError(signal, what);
    if (!outcome) throw new Error(`${what} did not run: its hold ended without it (a bug: please report it)`);
    if ("error" in outcome) throw outcome.error;
    return outcome.value;
  }
}
