import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { closeCounters, ClusterCounters, flushCounters, readCounters, recordJob, recordTurn } from "../../src/metrics/cluster-counters.js";
import { type OwnRedis, startOwnRedis } from "../helpers/redis-server.js";
import { redisForFile } from "../helpers/redis-file.js";
import { REDIS_URL } from "../helpers/redis.js";

const usage = (n: number) => ({ input: n, output: 2 * n, cacheWrite: 3 * n, cacheRead: 4 * n });
let redis: Redis;
const prefix = redisForFile("counters", (r) => (redis = r));

async function waitFor<T>(check: () => Promise<T>, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("ClusterCounters", () => {
  it("holds increments in the process until a flush, then sends them all at once", async () => {
    const p = `${prefix}:flush`;
    const counters = new ClusterCounters(redis, p, 60_000);
    counters.turn(usage(10), 0.25);
    counters.turn(usage(1), 0.5);
    counters.job("implement", "completed", 1.5);
    // The same connection answers in order: a PING answered means anything sent before it landed.
    expect(await redis.ping()).toBe("PONG");
    expect(await readCounters(redis, p)).toEqual({});
    expect(counters.unsent()).toMatchObject({ turns: 2, tokens_input: 11, cost_usd: 0.75 });

    await counters.flush();
    expect(await readCounters(redis, p)).toEqual({
      turns: 2,
      tokens_input: 11,
      tokens_output: 22,
      tokens_cache_write: 33,
      tokens_cache_read: 44,
      cost_usd: 0.75,
      "jobs:implement:completed": 1,
      "job_seconds:implement:completed": 1.5,
    });
    expect(counters.unsent()).toEqual({});
    await counters.close();
  });

  it("sends on its own within the flush interval", async () => {
    const p = `${prefix}:timer`;
    const counters = new ClusterCounters(redis, p, 50);
    counters.turn(usage(5), 0.1);
    const totals = await waitFor(async () => {
      const c = await readCounters(redis, p);
      return c.turns ? c : null;
    }, "the timed flush");
    expect(totals).toMatchObject({ turns: 1, tokens_output: 10, cost_usd: 0.1 });
    await counters.close();
  });

  it("loses no increment made while flushes are in flight, and sends the rest on close", async () => {
    const p = `${prefix}:close`;
    const counters = new ClusterCounters(redis, p, 60_000);
    const flushes: Array<Promise<void>> = [];
    for (let i = 1; i <= 500; i++) {
      counters.turn(usage(1), 0.01);
      counters.job("revise", i % 2 ? "completed" : "failed", 2);
      if (i % 37 === 0) flushes.push(counters.flush());
    }
    await Promise.all(flushes);
    counters.turn(usage(1), 0.01);
    await counters.close();
    const c = await readCounters(redis, p);
    expect(c).toMatchObject({ turns: 501, tokens_input: 501, tokens_cache_read: 2004, "jobs:revise:completed": 250, "jobs:revise:failed": 250, "job_seconds:revise:failed": 500 });
    expect(c.cost_usd).toBeCloseTo(5.01, 9);
  });

  it("keeps what a failed flush could not send and sends it with the next one", async () => {
    let own: OwnRedis | undefined;
    let fragile: Redis | undefined;
    try {
      own = await startOwnRedis();
      // Fails at once while Redis is away, so the flush reports the failure instead of waiting.
      fragile = new Redis(own.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 50 });
      fragile.on("error", () => undefined);
      const counters = new ClusterCounters(fragile, "blip", 60_000);
      counters.turn(usage(7), 0.7);
      await own.stop();
      await waitFor(async () => fragile?.status !== "ready", "the connection to notice Redis is gone");
      await expect(counters.flush()).rejects.toThrow(/could not send the workforce counters to Redis/);
      expect(counters.unsent()).toMatchObject({ turns: 1, tokens_input: 7 });

      counters.turn(usage(1), 0.3);
      await own.start();
      await waitFor(async () => fragile?.status === "ready", "the connection to come back");
      await counters.flush();
      expect(await readCounters(fragile, "blip")).toMatchObject({ turns: 2, tokens_input: 8, cost_usd: 1 });
      await counters.close();
    } finally {
      fragile?.disconnect();
      await own?.stop();
    }
  });
});

describe("recordTurn and recordJob", () => {
  it("share one set of counters per connection: a flush sends every caller's, closeCounters the rest", async () => {
    const p = `${prefix}:shared`;
    const own = new Redis(REDIS_URL);
    try {
      await recordTurn(own, p, usage(2), 0.2);
      await recordTurn(own, p, usage(3), 0.3);
      await flushCounters(own, p);
      expect(await readCounters(own, p)).toMatchObject({ turns: 2, tokens_input: 5, cost_usd: 0.5 });

      await recordJob(own, p, "implement", "completed", 4);
      await recordTurn(own, p, usage(1), 0);
      await closeCounters(own);
      expect(await readCounters(own, p)).toMatchObject({ turns: 3, tokens_input: 6, "jobs:implement:completed": 1, "job_seconds:implement:completed": 4 });
    } finally {
      own.disconnect();
    }
  });
});

afterEach(async () => {
  // Every test's counters were flushed or closed above; nothing may be left behind to send later.
  await closeCounters(redis);
});
