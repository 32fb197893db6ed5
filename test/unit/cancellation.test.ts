import { once } from "node:events";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { createRedis } from "../../src/redis.js";
import { Cancellation } from "../../src/tasks/cancellation.js";
import { cleanPrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function connection(): Promise<Redis> {
  const redis = createRedis(REDIS_URL, "producer");
  redis.on("error", () => undefined);
  cleanups.push(async () => redis.disconnect());
  if (redis.status !== "ready") await once(redis, "ready");
  return redis;
}

/** A listening Cancellation on real Redis pub/sub under a prefix of its own. */
async function listening(): Promise<Cancellation> {
  const prefix = uniquePrefix("cancel");
  cleanups.push(() => cleanPrefix(prefix));
  const redis = await connection();
  const cancellation = new Cancellation(redis, () => createRedis(REDIS_URL, "worker"), prefix, createLogger({ level: "silent" }));
  await cancellation.listen();
  cleanups.push(() => cancellation.close());
  return cancellation;
}

function aborted(ctrl: AbortController): Promise<unknown> {
  return new Promise((resolve) => {
    if (ctrl.signal.aborted) resolve(ctrl.signal.reason);
    ctrl.signal.addEventListener("abort", () => resolve(ctrl.signal.reason), { once: true });
  });
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

describe("Cancellation", () => {
  it("a cancel aborts every job registered for the issue, not only the last one", async () => {
    const cancellation = await listening();
    const implement = new AbortController();
    const revise = new AbortController();
    cancellation.register("issue-1", implement);
    cancellation.register("issue-1", revise);

    await cancellation.cancel("issue-1", "the agent label was removed");

    const reasons = await within(Promise.all([aborted(implement), aborted(revise)]), 5_000, "both aborts");
    expect(reasons.map((r) => (r as Error).message)).toEqual(["the agent label was removed", "the agent label was removed"]);
  });

  it("a second job that registers and leaves does not take the running job's registration with it", async () => {
    const cancellation = await listening();
    const running = new AbortController();
    cancellation.register("issue-1", running);
    // A revision polls for the issue lock while the implement job runs, then goes back to wait.
    const poller = new AbortController();
    const unregisterPoller = cancellation.register("issue-1", poller);
    unregisterPoller();
    // A registration for another issue is the positive signal that the cancel was delivered.
    const other = new AbortController();
    cancellation.register("issue-2", other);

    await cancellation.cancel("issue-1", "the issue was cancelled");
    await cancellation.cancel("issue-2", "the issue was cancelled");

    await within(aborted(other), 5_000, "the other issue's abort");
    await within(aborted(running), 5_000, "the running job's abort");
    expect(running.signal.aborted).toBe(true);
    expect(poller.signal.aborted).toBe(false);
  });

  it("a job that unregistered is no longer aborted, while the issue's other jobs are", async () => {
    const cancellation = await listening();
    const finished = new AbortController();
    const unregister = cancellation.register("issue-1", finished);
    const running = new AbortController();
    cancellation.register("issue-1", running);
    unregister();
    unregister();

    await cancellation.cancel("issue-1", "the agent label was removed");

    await within(aborted(running), 5_000, "the running job's abort");
    expect(finished.signal.aborted).toBe(false);
  });
});
