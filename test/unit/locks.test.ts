import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { classifyFailure } from "../../jobs/failures.js";
import { createRedis } from "../../src/redis.js";
import { type Lease, LeaseLostError, Limits } from "../../src/tasks/locks.js";
import { type OwnRedis, startOwnRedis } from "../helpers/redis-server.js";
import { cleanPrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

// Leases in seconds instead of a minute, so expiry and renewal happen within a test.
const FAST = { ttlMs: 3_000, renewMs: 300, retryMs: 150 };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The worker's own kind of connection: fail-fast, as the issue lock uses in production. */
async function producer(url: string): Promise<Redis> {
  const redis = createRedis(url, "producer");
  redis.on("error", () => undefined);
  cleanups.push(async () => redis.disconnect());
  // Without an offline queue, commands sent before the connection is up fail at once.
  if (redis.status !== "ready") await once(redis, "ready");
  return redis;
}

function held(lease: Lease | null): Lease {
  if (!lease) throw new Error("expected the lease to be taken");
  cleanups.push(() => lease.release());
  return lease;
}

/** Records the abort a lost lease causes, as jobs/leases.ts wires it to the job's controller. */
function watcher() {
  const ctrl = new AbortController();
  return { ctrl, onLost: (err: LeaseLostError) => ctrl.abort(err) };
}

async function waitUntil(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("lease renewal notices a lost lease", () => {
  it("an issue lock whose key vanished (expired) aborts its holder with the reason", async () => {
    const prefix = uniquePrefix("locks");
    cleanups.push(() => cleanPrefix(prefix));
    const redis = await producer(REDIS_URL);
    const limits = new Limits(redis, prefix, FAST);
    const { ctrl, onLost } = watcher();
    const first = held(await limits.lockIssue("issue-1", "job-1", onLost));
    expect(await limits.issueHolder("issue-1")).toBe("job-1");

    await redis.del(`${prefix}:lock:issue:issue-1`);
    await waitUntil(() => ctrl.signal.aborted, "the holder to be aborted");
    expect(ctrl.signal.reason).toBeInstanceOf(LeaseLostError);
    expect((ctrl.signal.reason as Error).message).toBe("the lock on issue issue-1 expired or was taken by another worker");
    // Another job takes it, and the lost holder's release leaves the new holder's lock alone.
    held(await limits.lockIssue("issue-1", "job-2"));
    await first.release();
    expect(await limits.issueHolder("issue-1")).toBe("job-2");
  });

  it("a repository slot that fell out while every slot was taken aborts its holder", async () => {
    const prefix = uniquePrefix("locks");
    cleanups.push(() => cleanPrefix(prefix));
    const redis = await producer(REDIS_URL);
    const limits = new Limits(redis, prefix, FAST);
    const { ctrl, onLost } = watcher();
    held(await limits.acquireRepoSlot("acme/api", "job-1", 1, onLost));
    await redis.zrem(`${prefix}:slots:repo:acme/api`, "job-1");
    held(await limits.acquireRepoSlot("acme/api", "job-2", 1));
    await waitUntil(() => ctrl.signal.aborted, "the holder to be aborted");
    expect((ctrl.signal.reason as Error).message).toBe("the agent slot in acme/api expired or was taken by another worker");
  });

  it("a Redis outage shorter than the lease does not abort; renewal resumes and keeps the lock", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "awf-locks-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    // Persistence on: the outage is a restart that keeps the data, as with BullMQ's recommended setup.
    const own: OwnRedis = await startOwnRedis({ persistDir: dir });
    cleanups.push(() => own.stop());
    const redis = await producer(own.url);
    const limits = new Limits(redis, "t", FAST);
    const { ctrl, onLost } = watcher();
    held(await limits.lockIssue("issue-1", "job-1", onLost));

    await own.stop();
    // Several renewals fail (connection refused, then the fail-fast connection's offline errors).
    await sleep(900);
    await own.start();
    await waitUntil(() => redis.status === "ready", "the connection to come back");
    // Long enough for a renewal after the reconnect: the TTL is back near its full length.
    await sleep(FAST.renewMs * 3);
    expect(ctrl.signal.aborted).toBe(false);
    expect(await limits.issueHolder("issue-1")).toBe("job-1");
    expect(await redis.pttl("t:lock:issue:issue-1")).toBeGreaterThan(FAST.ttlMs - FAST.renewMs * 2);
  });

  it("renewal failing until the lease's expiry has passed counts as lost", async () => {
    const own = await startOwnRedis();
    let down = false;
    // The helper's stop() waits for an exit that never comes a second time.
    cleanups.push(async () => (down ? undefined : own.stop()));
    const redis = await producer(own.url);
    const limits = new Limits(redis, "t", { ttlMs: 1_000, renewMs: 200, retryMs: 100 });
    const { ctrl, onLost } = watcher();
    held(await limits.lockIssue("issue-1", "job-1", onLost));
    const stopped = Date.now();
    await own.stop();
    down = true;
    await waitUntil(() => ctrl.signal.aborted, "the holder to be aborted");
    // Not before the lease could have expired, and soon after it.
    expect(Date.now() - stopped).toBeGreaterThanOrEqual(1_000 - 250);
    expect((ctrl.signal.reason as Error).message).toMatch(/^the lock on issue issue-1 could not be renewed before it expired \(/);
    expect((ctrl.signal.reason as Error).cause).toBeInstanceOf(Error);
  });
});

describe("a job stopped by a lost lease", () => {
  const err = new Error("the run was stopped");
  const lost = () => {
    const ctrl = new AbortController();
    ctrl.abort(new LeaseLostError("the lock on issue issue-1 expired or was taken by another worker"));
    return ctrl.signal;
  };

  it("is retried, not recorded as stopped by the user", () => {
    expect(classifyFailure(err, { attemptsMade: 0, opts: { attempts: 3 } }, lost())).toMatchObject({
      retry: true,
      cancelled: false,
      message: "The run stopped because the lock on issue issue-1 expired or was taken by another worker; another worker may have taken over",
    });
  });

  it("gives up like any other failure on its last attempt", () => {
    expect(classifyFailure(err, { attemptsMade: 2, opts: { attempts: 3 } }, lost())).toMatchObject({ retry: false, cancelled: false });
  });

  it("while a cancel still counts as stopped", () => {
    const ctrl = new AbortController();
    ctrl.abort(new Error("the agent label was removed"));
    expect(classifyFailure(err, { attemptsMade: 0, opts: { attempts: 3 } }, ctrl.signal)).toMatchObject({ retry: false, cancelled: true });
  });
});
