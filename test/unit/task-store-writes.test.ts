import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Task } from "../../src/tasks/task.js";
import { TaskStore } from "../../src/tasks/task-store.js";
import { type OwnRedis, startOwnRedis } from "../helpers/redis-server.js";

// A private redis-server, so INFO commandstats counts only this file's commands.
let own: OwnRedis;
let redis: Redis;
let n = 0;
const fresh = async (store: TaskStore) => {
  n += 1;
  return store.ensure({ issueId: `issue-${n}`, identifier: `ENG-${n}`, title: "a task", issueUrl: null });
};

beforeAll(async () => {
  own = await startOwnRedis();
  redis = new Redis(own.url);
});
afterAll(async () => {
  redis.disconnect();
  await own.stop();
});

/** Calls per command (Lua's own calls included) that `run` made. */
async function commands(run: () => Promise<unknown>): Promise<Record<string, number>> {
  const stats = async () => {
    const text = await redis.info("commandstats");
    return new Map([...text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1] as string, Number(m[2])]));
  };
  const before = await stats();
  await run();
  const after = await stats();
  const out: Record<string, number> = {};
  for (const [cmd, c] of after) {
    // The two INFO calls of this count are not the code's.
    const d = c - (before.get(cmd) ?? 0) - (cmd === "info" ? 1 : 0);
    if (d > 0) out[cmd] = d;
  }
  return out;
}

/** The task events published while `run` runs. */
async function events(store: TaskStore, run: () => Promise<unknown>): Promise<Task[]> {
  const sub = new Redis(own.url);
  const seen: Task[] = [];
  try {
    sub.on("message", (_c, m: string) => seen.push(JSON.parse(m) as Task));
    await sub.subscribe(store.channel);
    await run();
    // A marker published after the run arrives after every event of the run.
    await redis.publish(store.channel, JSON.stringify({ issueId: "marker" }));
    const deadline = Date.now() + 5_000;
    while (!seen.some((t) => t.issueId === "marker") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(seen.at(-1)?.issueId).toBe("marker");
    return seen.slice(0, -1);
  } finally {
    sub.disconnect();
  }
}

describe("TaskStore.update", () => {
  it("writes from the record this process last saw, with no read first", async () => {
    const store = new TaskStore(redis, "writes");
    const task = await fresh(store);
    const counted = await commands(() => store.update(task.issueId, () => ({ step: "working" })));
    // One script: its GET (the compare), SET, ZADD and PUBLISH.
    expect(counted).toEqual({ eval: 1, get: 1, set: 1, zadd: 1, publish: 1 });
    expect((await new TaskStore(redis, "writes").get(task.issueId))?.step).toBe("working");
  });

  it("applies the change to the current record when another process wrote since", async () => {
    const a = new TaskStore(redis, "writes");
    const b = new TaskStore(redis, "writes");
    const task = await fresh(a);
    await a.update(task.issueId, (t) => ({ attempts: t.attempts + 1 }));
    await b.update(task.issueId, (t) => ({ attempts: t.attempts + 1, step: "from b" }));
    // a's copy is stale: its first compare fails and answers with b's record, which the change sees.
    const seenBy: number[] = [];
    const counted = await commands(() =>
      a.update(task.issueId, (t) => {
        seenBy.push(t.attempts);
        return { attempts: t.attempts + 1 };
      }),
    );
    expect(seenBy).toEqual([1, 2]);
    expect(counted).toMatchObject({ eval: 2 });
    expect(counted.get).toBe(2);
    expect(await b.get(task.issueId)).toMatchObject({ attempts: 3, step: "from b" });
  });

  it("loses no update when two processes change one task at the same time", async () => {
    const stores = [new TaskStore(redis, "writes"), new TaskStore(redis, "writes")];
    const task = await fresh(stores[0] as TaskStore);
    await Promise.all(Array.from({ length: 40 }, (_, i) => (stores[i % 2] as TaskStore).update(task.issueId, (t) => ({ turns: t.turns + 1 }))));
    expect((await stores[1]?.get(task.issueId))?.turns).toBe(40);
  });

  it("writes nothing for a change that alters nothing: one read confirms the copy is current", async () => {
    const store = new TaskStore(redis, "writes");
    const task = await fresh(store);
    const saved = await store.update(task.issueId, () => ({ step: "working", checks: null }));
    let counted: Record<string, number> = {};
    const published = await events(store, async () => {
      counted = await commands(() => store.update(saved.issueId, () => ({ step: "working", checks: null, turnStartedAt: undefined })));
    });
    expect(published).toEqual([]);
    expect(counted).toEqual({ get: 1 });
    expect(await store.get(task.issueId)).toEqual(saved);
  });

  it("still writes a change that alters nothing of a stale copy but something of the record", async () => {
    const a = new TaskStore(redis, "writes");
    const b = new TaskStore(redis, "writes");
    const task = await fresh(a);
    await b.update(task.issueId, () => ({ step: "set by b" }));
    // In a's copy the step is still null: only a read shows the change is not a no-op.
    const published = await events(a, () => a.update(task.issueId, () => ({ step: null })));
    expect(published.map((t) => t.step)).toEqual([null]);
    expect((await b.get(task.issueId))?.step).toBeNull();
  });

  it("maps a pull request to its task with the write that first names it, not with every later one", async () => {
    const store = new TaskStore(redis, "writes");
    const task = await fresh(store);
    const pr = { repo: { owner: "Acme", name: "Widgets" }, prNumber: 7 };
    const first = await commands(() => store.update(task.issueId, () => ({ ...pr, state: "working" })));
    expect(first.set).toBe(2);
    expect((await store.findByPullRequest("acme", "widgets", 7))?.issueId).toBe(task.issueId);
    const later = await commands(() => store.update(task.issueId, () => ({ step: "revising" })));
    expect(later.set).toBe(1);
    expect((await store.findByPullRequest("acme", "widgets", 7))?.step).toBe("revising");
  });

  it("says which task is missing, also when this process had seen it", async () => {
    const store = new TaskStore(redis, "writes");
    const task = await fresh(store);
    await redis.del(`writes:task:${task.issueId}`);
    await expect(store.update(task.issueId, () => ({ step: "x" }))).rejects.toThrow(`no task for issue ${task.issueId}`);
    await expect(store.update("never-made", () => ({ step: "x" }))).rejects.toThrow("no task for issue never-made");
  });
});
