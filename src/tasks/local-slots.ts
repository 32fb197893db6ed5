/** A process-local counting semaphore: AGENT_CONCURRENCY agents per worker process, whatever the queue. */
export class LocalSlots {
  private used = 0;
  constructor(readonly size: number) {}

  /** Takes a slot, or returns null when all are in use; the returned function gives it back once. */
  tryAcquire(): (() => void) | null {
    if (this.used >= this.size) return null;
    this.used += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= 1;
    };
  }

  get inUse(): number {
    return this.used;
  }
}
