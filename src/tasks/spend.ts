import type { Redis } from "ioredis";

/** UTC calendar day of a date, e.g. "2026-11-21". */
export function dayOf(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** Keys whose expiry a ledger remembers having set: far more than the jobs that run at once. */
const EXPIRING_KEYS = 1_000;

/** Agent spend per UTC day, shared by every process, for the dashboard and the daily budget. */
export class SpendLedger {
  /**
   * Keys this process has already given their expiry (in the same transaction as an increment, so
   * no key is ever left without one): a model turn then sends two increments, not four commands.
   */
  private readonly expiring = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(day: string) {
    return `${this.prefix}:spend:${day}`;
  }

  private jobKey(jobId: string) {
    return `${this.prefix}:spend:job:${jobId}`;
  }

  /** Adds the cost of one model turn to today's spend and, given its job, to that job's. */
  async add(usd: number, at = new Date(), jobId?: string): Promise<void> {
    if (!(usd > 0)) return;
    const key = this.key(dayOf(at));
    const tx = this.redis.multi().incrbyfloat(key, usd);
    const expire = [[key, 90 * 24 * 3600] as const];
    // Kept as long as failed jobs are: a retry long after still sees what its attempts spent.
    if (jobId) {
      tx.incrbyfloat(this.jobKey(jobId), usd);
      expire.push([this.jobKey(jobId), 31 * 24 * 3600]);
    }
    const fresh = expire.filter(([k]) => !this.expiring.has(k));
    for (const [k, seconds] of fresh) tx.expire(k, seconds);
    const results = await tx.exec();
    // Remembered only once Redis has applied it; a failed transaction sends the expiry again.
    if (results && results.every(([err]) => !err)) for (const [k] of fresh) this.remember(k);
  }

  private remember(key: string): void {
    this.expiring.add(key);
    if (this.expiring.size > EXPIRING_KEYS) this.expiring.delete(this.expiring.values().next().value as string);
  }

  /** What one job has spent over all its attempts and hand-overs so far. */
  async job(jobId: string): Promise<number> {
    return Number((await this.redis.get(this.jobKey(jobId))) ?? 0);
  }

  /** Spend of one UTC day (today by default). */
  async day(at = new Date()): Promise<number> {
    return Number((await this.redis.get(this.key(dayOf(at)))) ?? 0);
  }
}
