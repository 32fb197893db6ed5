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
 * Work that must not overlap a lock's other holders but may overlap itself (`git worktree add`s
 * of different jobs, which only a fetch must not see half done): every caller that queued before
 * the lock is taken runs its own work in that one hold, side by side, instead of one hold each.
 * Waiting is shared as in SharedRuns: the hold is given up only when every caller has aborted.
 */
export class BatchedHolds {
  private readonly runs = new SharedRuns();
  private readonly batches = new Map<string, Batch>();

  /**
   * Runs `work` in the next hold for key. `hold(runSignal, body)` takes the lock and runs body in
   * it; `work` gets the caller's own signal, so one caller's abort stops only its own work.
   */
  async run<T>(
    key: string,
    signal: AbortSignal | undefined,
    what: string,
    hold: (runSignal: AbortSignal, body: () => Promise<void>) => Promise<void>,
    work: () => Promise<T>,
  ): Promise<T> {
    if (signal?.aborted) throw abortError(signal, what);
    let batch = this.batches.get(key);
    if (!batch) {
      batch = { items: [] };
      this.batches.set(key, batch);
    }
    const current = batch;
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
    current.items.push(item);
    try {
      await this.runs.join(key, signal, what, (runSignal, started) =>
        hold(runSignal, async () => {
          started();
          if (this.batches.get(key) === current) this.batches.delete(key);
          // A lock that ignored an abort still runs none of the work its callers gave up.
          if (runSignal.aborted) return;
          const live = current.items.filter((i) => !i.cancelled && !i.signal?.aborted);
          await Promise.all(live.map((i) => (i.running = i.run())));
        }),
      );
    } catch (err) {
      // Aborted, or the lock was not taken: never run later; if it is running, let git stop first.
      item.cancelled = true;
      await item.running;
      throw err;
    }
    if (!outcome && signal?.aborted) throw abortError(signal, what);
    if (!outcome) throw new Error(`${what} did not run: its hold ended without it (a bug: please report it)`);
    if ("error" in outcome) throw outcome.error;
    return outcome.value;
  }
}
