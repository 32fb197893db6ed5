import { once } from "node:events";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createRedis } from "../../src/redis.js";
import { type Lease, Limits, type TurnAnswer } from "../../src/tasks/locks.js";
import { cleanPrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

// The repository's line and the issue lock's waiters, straight on Redis.

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function limits(): Promise<{ limits: Limits; redis: Redis; prefix: string }> {
  const prefix = uniquePrefix("line");
  const redis = createRedis(REDIS_URL, "producer");
  redis.on("error", () => undefined);
  if (redis.status !== "ready") await once(redis, "ready");
  cleanups.push(async () => {
    await cleanPrefix(prefix);
    redis.disconnect();
  });
  return { limits: new Limits(redis, prefix), redis, prefix };
}

const job = (jobId: string, arrivedAt: number) => ({ queue: "implement", jobId, arrivedAt });

function lease(answer: TurnAnswer): Lease {
  if (!answer.lease) throw new Error(`expected the slot, got position ${answer.position}`);
  const held = answer.lease;
  cleanups.push(() => held.release());
  return held;
}

describe("a repository's line", () => {
  it("grants slots first come first served: a later job never overtakes, whoever looks first", async () => {
    const { limits: l } = await limits();
    const first = lease(await l.takeRepoSlot("acme/api", job("a", 1), 1));
    // The third arrival looks before the second: it still waits behind it.
    const third = await l.takeRepoSlot("acme/api", job("c", 3), 1);
    const second = await l.takeRepoSlot("acme/api", job("b", 2), 1);
    expect(third).toMatchObject({ lease: null, position: 1 });
    expect(second).toMatchObject({ lease: null, position: 1, ahead: [] });
    expect(await l.takeRepoSlot("acme/api", job("c", 3), 1)).toMatchObject({ lease: null, position: 2, ahead: [{ queue: "implement", jobId: "b" }] });
    expect(await l.repoLine("acme/api")).toEqual([
      { queue: "implement", jobId: "b" },
      { queue: "implement", jobId: "c" },
    ]);

    await first.release();
    // The slot is free, but it is the second's: the third is refused and told it is next.
    expect(await l.takeRepoSlot("acme/api", job("c", 3), 1)).toMatchObject({ lease: null, position: 2 });
    const taken = await l.takeRepoSlot("acme/api", job("b", 2), 1);
    expect(taken).toMatchObject({ leftLine: true });
    lease(taken);
    expect(await l.takeRepoSlot("acme/api", job("c", 3), 1)).toMatchObject({ lease: null, position: 1 });
  });

  it("a job that comes back keeps its first place; one that leaves lets the next one in", async () => {
    const { limits: l } = await limits();
    lease(await l.takeRepoSlot("acme/api", job("a", 1), 2));
    const b = lease(await l.takeRepoSlot("acme/api", job("b", 2), 2));
    expect(await l.takeRepoSlot("acme/api", job("c", 3), 2)).toMatchObject({ position: 1 });
    expect(await l.takeRepoSlot("acme/api", job("d", 4), 2)).toMatchObject({ position: 2 });
    // Looking again (a woken job) with the same arrival changes nothing.
    expect(await l.takeRepoSlot("acme/api", job("d", 4), 2)).toMatchObject({ position: 2 });

    await l.leaveRepoLine("acme/api", { queue: "implement", jobId: "c" });
    await b.release();
    const d = await l.takeRepoSlot("acme/api", job("d", 4), 2);
    expect(d).toMatchObject({ leftLine: true });
    lease(d);
    expect(await l.repoLine("acme/api")).toEqual([]);
    expect(await l.repoSlotsInUse("acme/api")).toBe(2);
  });

  it("a fresh job takes a free slot when nobody waits, without having been in line", async () => {
    const { limits: l } = await limits();
    expect(await l.takeRepoSlot("acme/api", job("a", 1), 1)).toMatchObject({ leftLine: false });
  });

  it("a wake mark is taken once, and a look clears it", async () => {
    const { limits: l } = await limits();
    const entry = { queue: "revise", jobId: "r-1" };
    expect(await l.takeWake(entry)).toBe(false);
    await l.markWake(entry);
    expect(await l.takeWake(entry)).toBe(true);
    expect(await l.takeWake(entry)).toBe(false);
    await l.markWake(entry);
    lease(await l.takeRepoSlot("acme/api", { ...entry, arrivedAt: 1 }, 1));
    expect(await l.takeWake(entry)).toBe(false);
  });
});

describe("the issue lock's waiters", () => {
  it("are remembered when refused and handed out once", async () => {
    const { limits: l } = await limits();
    const held = await l.lockIssue("issue-1", "job-1", undefined, { queue: "implement", jobId: "job-1" });
    expect(held).not.toBeNull();
    cleanups.push(async () => held?.release());
    expect(await l.lockIssue("issue-1", "job-2", undefined, { queue: "revise", jobId: "job-2" })).toBeNull();
    expect(await l.takeIssueWaiters("issue-1")).toEqual([{ queue: "revise", jobId: "job-2" }]);
    expect(await l.takeIssueWaiters("issue-1")).toEqual([]);
  });

  it("another run of the same job takes the lock over, and the earlier run's release leaves it alone", async () => {
    const { limits: l } = await limits();
    const earlier = await l.lockIssue("issue-1", "job-1");
    const later = await l.lockIssue("issue-1", "job-1");
    expect(later).not.toBeNull();
    cleanups.push(async () => later?.release());
    await earlier?.release();
    expect(await l.issueHolder("issue-1")).toBe("job-1");
    expect(await l.lockIssue("issue-1", "job-2")).toBeNull();
    await later?.release();
    expect(await l.issueHolder("issue-1")).toBeNull();
  });
});
