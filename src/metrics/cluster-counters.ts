import type { Redis } from "ioredis";
import type { Usage } from "../tasks/task.js";

// Agent turns happen in worker processes, scrapes hit the server: totals live in Redis so the
// server's /metrics reports the whole workforce.
const key = (prefix: string) => `${prefix}:metrics`;

/**
 * How long an increment may wait in the process before it is sent. Every model turn used to send
 * its own MULTI, six HINCRBYs and EXEC (eight commands); one flush carries every turn and job of
 * the process since the last one. A crash loses at most this much of the workforce totals (a
 * task's own usage is in its record, written as each turn happens).
 */
export const COUNTERS_FLUSH_MS = 5_000;

/** Fields added with HINCRBYFLOAT; every other field holds an integer. */
const isFloat = (field: string) => field === "cost_usd" || field.startsWith("job_seconds:");

/**
 * The workforce-wide totals of one process, added up in memory and sent to Redis in one
 * transaction at most `flushMs` after the first unsent increment, on `flush()` and on `close()`.
 */
export class ClusterCounters {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  /** Flushes run one after another, so `await flush()` covers every increment made before it. */
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly flushMs = COUNTERS_FLUSH_MS,
  ) {}

  /** Adds one model turn to the totals. */
  turn(usage: Usage, costUsd: number): void {
    this.add("turns", 1);
    this.add("tokens_input", usage.input);
    this.add("tokens_output", usage.output);
    this.add("tokens_cache_write", usage.cacheWrite);
    this.add("tokens_cache_read", usage.cacheRead);
    this.add("cost_usd", costUsd);
  }

  /** Adds one finished job (with its duration) to the totals. */
  job(queue: string, outcome: string, seconds: number): void {
    this.add(`jobs:${queue}:${outcome}`, 1);
    this.add(`job_seconds:${queue}:${outcome}`, seconds);
  }

  /** Increments not sent yet, by field (for tests and diagnostics). */
  unsent(): Record<string, number> {
    return Object.fromEntries(this.pending);
  }

  /**
   * Sends every increment made so far. On failure they stay for the next flush (a flush that
   * timed out may still have been applied: the totals would then over-count, never lose) and the
   * returned promise rejects.
   */
  flush(): Promise<void> {
    const sent = this.chain.then(() => this.send());
    this.chain = sent.catch(() => undefined);
    return sent;
  }

  /** Stops the timer and sends what is left; increments made after this are sent by `flush()` only. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopTimer();
    await this.flush();
  }

  private add(field: string, by: number): void {
    if (!by) return;
    this.pending.set(field, (this.pending.get(field) ?? 0) + by);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      // A connection closed for good can send nothing more: no retries against it.
      if (this.redis.status === "end") return;
      // A failed timed flush keeps its increments and schedules the next try.
      this.flush().catch(() => undefined);
    }, this.flushMs);
    // Pending totals never keep a process alive; close() sends them on shutdown.
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async send(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.stopTimer();
    const tx = this.redis.multi();
    for (const [field, by] of batch) {
      if (isFloat(field)) tx.hincrbyfloat(key(this.prefix), field, by);
      else tx.hincrby(key(this.prefix), field, by);
    }
    try {
      const results = await tx.exec();
      const failed = results?.find(([err]) => err)?.[0];
      if (!results || failed) throw failed ?? new Error("the transaction was discarded");
    } catch (err) {
      for (const [field, by] of batch) this.add(field, by);
      throw new Error(`could not send the workforce counters to Redis (kept for the next flush): check that Redis is reachable`, { cause: err });
    }
  }
}

/** One set of counters per connection and prefix: every caller in a process shares its flushes. */
const shared = new WeakMap<Redis, Map<string, ClusterCounters>>();

/** The process's shared counters for `redis` and `prefix`, created on first use. */
function clusterCounters(redis: Redis, prefix: string): ClusterCounters {
  let byPrefix = shared.get(redis);
  if (!byPrefix) shared.set(redis, (byPrefix = new Map()));
  let counters = byPrefix.get(prefix);
  if (!counters) byPrefix.set(prefix, (counters = new ClusterCounters(redis, prefix)));
  return counters;
}

/** Adds one model turn to the workforce-wide totals (sent with the process's next flush). */
export async function recordTurn(redis: Redis, prefix: string, usage: Usage, costUsd: number): Promise<void> {
  clusterCounters(redis, prefix).turn(usage, costUsd);
}

/** Adds one finished job (with its duration) to the workforce-wide totals (sent with the next flush). */
export async function recordJob(redis: Redis, prefix: string, queue: string, outcome: string, seconds: number): Promise<void> {
  clusterCounters(redis, prefix).job(queue, outcome, seconds);
}

/** Sends the increments this process holds for `redis` and `prefix` now. */
export async function flushCounters(redis: Redis, prefix: string): Promise<void> {
  await shared.get(redis)?.get(prefix)?.flush();
}

/** Sends every increment held for `redis` and forgets its counters; call before the connection closes. */
export async function closeCounters(redis: Redis): Promise<void> {
  const byPrefix = shared.get(redis);
  if (!byPrefix) return;
  shared.delete(redis);
  await Promise.all([...byPrefix.values()].map((c) => c.close()));
}

/** Reads every total (increments still held by worker processes arrive with their next flush). */
export async function readCounters(redis: Redis, prefix: string): Promise<Record<string, number>> {
  const raw = await redis.hgetall(key(prefix));
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
}
