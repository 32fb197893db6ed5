import type { Redis } from "ioredis";

/** UTC calendar day of a date, e.g. "2026-11-21". */
export function dayOf(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** Agent spend per UTC day, shared by every process, for the dashboard and the daily budget. */
export class SpendLedger {
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
    const tx = this.redis.multi().incrbyfloat(key, usd).expire(key, 90 * 24 * 3600);
    // Kept as long as failed jobs are: a retry long after still sees what its attempts spent.
    if (jobId) tx.incrbyfloat(this.jobKey(jobId), usd).expire(this.jobKey(jobId), 31 * 24 * 3600);
    await tx.exec();
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
