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

  /** Adds the cost of one model turn to today's spend. */
  async add(usd: number, at = new Date()): Promise<void> {
    if (!(usd > 0)) return;
    const key = this.key(dayOf(at));
    await this.redis.multi().incrbyfloat(key, usd).expire(key, 90 * 24 * 3600).exec();
  }

  /** Spend of one UTC day (today by default). */
  async day(at = new Date()): Promise<number> {
    return Number((await this.redis.get(this.key(dayOf(at)))) ?? 0);
  }
}
