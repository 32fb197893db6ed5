import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { SpendLedger } from "../../src/tasks/spend.js";
import { redisForFile } from "../helpers/redis-file.js";

let redis: Redis;
const prefix = redisForFile("spend", (r) => (redis = r));

describe("SpendLedger.add", () => {
  it("adds every turn to its day and its job, each key with its expiry from its first increment", async () => {
    const ledger = new SpendLedger(redis, prefix);
    const at = new Date("2026-12-04T10:00:00Z");
    await ledger.add(0.25, at, "job-1");
    const dayKey = `${prefix}:spend:2026-12-04`;
    const jobKey = `${prefix}:spend:job:job-1`;
    expect(await redis.ttl(dayKey)).toBeGreaterThan(89 * 24 * 3600);
    expect(await redis.ttl(jobKey)).toBeGreaterThan(30 * 24 * 3600);
    // Later turns send only the increments: the expiry set with the first one stays.
    await redis.expire(dayKey, 1_000);
    await ledger.add(0.5, at, "job-1");
    await ledger.add(0.125, at);
    expect(await redis.ttl(dayKey)).toBeLessThanOrEqual(1_000);
    expect(await ledger.day(at)).toBeCloseTo(0.875, 9);
    expect(await ledger.job("job-1")).toBeCloseTo(0.75, 9);

    // Another process (a job handed over) gives the keys their expiry again with its own first turn.
    await new SpendLedger(redis, prefix).add(0.125, at, "job-1");
    expect(await redis.ttl(dayKey)).toBeGreaterThan(89 * 24 * 3600);
    expect(await ledger.job("job-1")).toBeCloseTo(0.875, 9);
  });
});
