interface Waiter {
  /** A slot was freed for it. */
  woken: boolean;
  /** Its job went to sleep in the queue, so only a promotion brings it back. */
  asleep: boolean;
}

/** Whom a freed slot is for, and whether that job sleeps (or will notice by itself). */
export interface WokenWaiter {
  key: string;
  asleep: boolean;
}

/**
 * A process-local counting semaphore: AGENT_CONCURRENCY agents per worker process, whatever the
 * queue. Refused callers wait in line (by key, first refused first), so a freed slot wakes the
 * job that waited longest in this process instead of every job looking again.
 */
export class LocalSlots {
  private used = 0;
  private readonly waiters = new Map<string, Waiter>();
  constructor(readonly size: number) {}

  /**
   * Takes a slot, or returns null when all are in use and, given a `waiter` key, puts it in line
   * (keeping its place if it is there already). The returned function gives the slot back once.
   */
  tryAcquire(waiter?: string): (() => void) | null {
    if (this.used >= this.size) {
      if (waiter !== undefined) this.waiters.set(waiter, { woken: false, asleep: false });
      return null;
    }
    if (waiter !== undefined) this.waiters.delete(waiter);
    this.used += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= 1;
    };
  }

  /**
   * The refused `waiter`'s job is asleep now. Returns true when a slot was freed for it before
   * (while it was still going to sleep): it must wake itself, as nobody else will.
   */
  asleep(waiter: string): boolean {
    const w = this.waiters.get(waiter);
    if (!w) return false;
    if (w.woken) this.waiters.delete(waiter);
    else w.asleep = true;
    return w.woken;
  }

  /** Takes the longest-waiting job out of line for a freed slot, if any waits. */
  wakeNext(): WokenWaiter | null {
    for (const [key, w] of this.waiters) {
      if (w.woken) continue;
      w.woken = true;
      if (w.asleep) this.waiters.delete(key);
      return { key, asleep: w.asleep };
    }
    return null;
  }

  get inUse(): number {
    return this.used;
  }

  /** Jobs in this process's line. */
  get waiting(): number {
    return this.waiters.size;
  }
}
