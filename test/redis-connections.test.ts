import { once } from "node:events";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDeps } from "../src/deps.js";
import { createRedis, PATIENT_COMMAND_TIMEOUT_MS } from "../src/redis.js";
import { testConfig } from "./helpers/config.js";
import { type OwnRedis, startOwnRedis } from "./helpers/redis-server.js";

let own: OwnRedis;
let down = false;
const open: Redis[] = [];
beforeAll(async () => {
  own = await startOwnRedis();
});
afterEach(async () => {
  for (const r of open.splice(0)) r.disconnect();
  if (down) await restart();
});
afterAll(async () => {
  await own?.stop();
});

async function connect(purpose: "patient" | "producer", extra = {}): Promise<Redis> {
  const r = createRedis(own.url, purpose, extra);
  r.on("error", () => undefined);
  open.push(r);
  if (r.status !== "ready") await once(r, "ready");
  return r;
}

/** Stops the server and waits until the connection has noticed. */
async function outage(r: Redis): Promise<void> {
  const closed = once(r, "close");
  down = true;
  await own.stop();
  await closed;
}

async function restart(): Promise<void> {
  await own.start();
  down = false;
}

describe("the patient Redis connection", () => {
  it("keeps writes issued while Redis is away and sends them once it is back; a producer refuses them at once", async () => {
    const patient = await connect("patient");
    const producer = await connect("producer");
    await outage(patient);

    const set = patient.set("k", "v");
    const tx = patient.multi().incrbyfloat("spend", 0.25).expire("spend", 60).exec();
    await expect(producer.set("k", "v")).rejects.toThrow(/enableOfflineQueue/);

    // Well past the producer's 900 ms command timeout.
    await new Promise((r) => setTimeout(r, 1_500));
    await restart();
    expect(await set).toBe("OK");
    expect(await tx).toEqual([
      [null, "0.25"],
      [null, 1],
    ]);
    expect(await patient.get("k")).toBe("v");
  });

  it("waits through a stall longer than the producer's timeout", async () => {
    const patient = await connect("patient");
    const pauser = await connect("patient");
    expect(await pauser.call("CLIENT", "PAUSE", "2000", "ALL")).toBe("OK");
    const started = Date.now();
    expect(await patient.incr("n")).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
  });

  it("is bounded: a write gives up after the command timeout, whether Redis is gone or stalled", async () => {
    expect((await connect("patient")).options.commandTimeout).toBe(PATIENT_COMMAND_TIMEOUT_MS);
    const patient = await connect("patient", { commandTimeout: 300 });

    const pauser = await connect("patient");
    expect(await pauser.call("CLIENT", "PAUSE", "1500", "ALL")).toBe("OK");
    await expect(patient.set("stalled", "1")).rejects.toThrow("Command timed out");
    await pauser.ping();

    await outage(patient);
    const started = Date.now();
    await expect(patient.set("gone", "1")).rejects.toThrow("Command timed out");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("is not opened by a process without workers: its stores use the fail-fast connection", async () => {
    const deps = await createDeps(testConfig({ REDIS_URL: own.url }), { roles: ["server"] });
    try {
      expect(deps.workerRedis).toBe(deps.redis);
      expect(deps.redis.options.enableOfflineQueue).toBe(false);
    } finally {
      await deps.close();
    }
  });
});

describe("the producer Redis connection", () => {
  /** How many socket reads Redis has served so far (the INFO call itself adds one). */
  async function readsProcessed(r: Redis): Promise<number> {
    const info = await r.info("stats");
    return Number(/total_reads_processed:(\d+)/.exec(info)?.[1]);
  }

  it("sends the commands issued in one event-loop turn in one write (auto-pipelining)", async () => {
    const producer = await connect("producer");
    const stats = await connect("patient");
    const before = await readsProcessed(stats);
    // Fifty webhooks' worth of writes, issued from separate callbacks of the same turn.
    await Promise.all(Array.from({ length: 50 }, (_, i) => new Promise((r) => setImmediate(r)).then(() => producer.set(`m${i}`, "1"))));
    const reads = (await readsProcessed(stats)) - before - 1;
    expect(await producer.get("m49")).toBe("1");
    expect(reads).toBeLessThanOrEqual(2);
  });
});
