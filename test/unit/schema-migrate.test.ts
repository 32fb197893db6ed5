import { readFileSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createQueues } from "../../jobs/queues.js";
import { TASK_SCHEMA_VERSION } from "../../src/tasks/task.js";
import { TaskStore } from "../../src/tasks/task-store.js";
import { cleanPrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

const fixture = JSON.parse(readFileSync(path.join(import.meta.dirname, "../fixtures/v1/task-pr-open.json"), "utf8")) as { raw: string };
/** A record as d995ca9 wrote it (version 1: no version field), for issue `id`. */
const v1 = (id: string, patch: Record<string, unknown> = {}) =>
  JSON.stringify({ ...JSON.parse(fixture.raw), issueId: id, identifier: `ENG-${id}`, prNumber: null, ...patch });

let redis: Redis;
let prefix: string;
let store: TaskStore;
beforeEach(() => {
  redis = new Redis(REDIS_URL);
  prefix = uniquePrefix("schema");
  store = new TaskStore(redis, prefix);
});
afterEach(async () => {
  redis.disconnect();
  await cleanPrefix(prefix);
});

const put = (id: string, raw: string) => redis.set(`${prefix}:task:${id}`, raw);
const stored = async (id: string) => JSON.parse((await redis.get(`${prefix}:task:${id}`)) as string);

describe("start-up migration of task records", () => {
  it("rewrites older records in place, batch by batch, and names malformed ones without touching them", async () => {
    for (let i = 1; i <= 7; i++) await put(String(i), v1(String(i)));
    const current = await store.ensure({ issueId: "8", identifier: "ENG-8", title: "new", issueUrl: null });
    await put("9", v1("9", { usage: null }));
    // Other keys under the prefix are not task records.
    await redis.set(`${prefix}:task-pr:acme/widgets#1`, "1");
    await redis.zadd(`${prefix}:tasks`, 1, "1");

    const report = await store.migrateAll({ batch: 2 });
    expect(report).toEqual({
      scanned: 9,
      migrated: { 1: 7 },
      current: 1,
      skipped: [],
      malformed: [{ key: `${prefix}:task:9`, error: expect.stringContaining(`task record ENG-9 (${prefix}:task:9) is malformed: field "usage"`) }],
    });
    for (let i = 1; i <= 7; i++) expect(await stored(String(i))).toEqual({ ...JSON.parse(v1(String(i))), schemaVersion: TASK_SCHEMA_VERSION });
    expect(await stored("8")).toEqual(current);
    expect(await redis.get(`${prefix}:task:9`)).toBe(v1("9", { usage: null }));
    expect(await redis.get(`${prefix}:task-pr:acme/widgets#1`)).toBe("1");
  });

  it("refuses to start when a newer release wrote records, naming them", async () => {
    await put("1", v1("1"));
    await put("2", v1("2", { schemaVersion: 3 }));
    await put("3", v1("3", { schemaVersion: 4 }));
    const refused = store.migrateAll();
    await expect(refused).rejects.toThrow(/^refusing to start: task record ENG-[23] \(.*\) is schema version [34]; this agent-workforce knows up to 2: upgrade every agent-workforce process/);
    await expect(refused).rejects.toThrow(/\(also: task record ENG-[23] /);
    // The newer records are left as the newer release wrote them.
    expect((await stored("2")).schemaVersion).toBe(3);
  });

  it("two starting workers and live updates never clobber each other", async () => {
    const ids = Array.from({ length: 300 }, (_, i) => String(i));
    for (const id of ids) await put(id, v1(id, { attempts: 0 }));
    // A live writer (an old or new worker) updates every tenth record while two processes migrate.
    const updates = ids.filter((_, i) => i % 10 === 0).map((id) => store.update(id, (t) => ({ attempts: t.attempts + 1 })));
    const otherRedis = new Redis(REDIS_URL);
    const other = new TaskStore(otherRedis, prefix);
    const [a, b] = await Promise.all([store.migrateAll({ batch: 7 }), other.migrateAll({ batch: 11 }), Promise.all(updates)]).finally(() => otherRedis.disconnect());
    // Each record was rewritten once: by one process, by the other, or by its update (30 of them).
    const byScans = (a.migrated[1] ?? 0) + (b.migrated[1] ?? 0);
    expect(byScans).toBeGreaterThanOrEqual(270);
    expect(byScans).toBeLessThanOrEqual(300);
    expect([a.scanned, b.scanned]).toEqual([300, 300]);
    for (const [i, id] of ids.entries()) {
      const t = await stored(id);
      expect(t.schemaVersion).toBe(TASK_SCHEMA_VERSION);
      expect(t.attempts).toBe(i % 10 === 0 ? 1 : 0);
    }
  });

  it("counts a record deleted or changed on every attempt while it migrates as skipped, not current", async () => {
    await put("gone", v1("gone"));
    await put("busy", v1("busy", { attempts: 0 }));
    const writer = new Redis(REDIS_URL);
    let busyWrites = 0;
    // A real second writer that always gets in between the migration's read and its compare-and-set:
    // it deletes one record and updates the other (still as an old release writes it) every time.
    const contended = new Proxy(redis, {
      get(target, name) {
        if (name === "eval") {
          return async (script: string, n: number, key: string, ...args: string[]) => {
            if (key.endsWith(":gone")) await writer.del(key);
            else await writer.set(key, v1("busy", { attempts: ++busyWrites }));
            return target.eval(script, n, key, ...args);
          };
        }
        const value: unknown = Reflect.get(target, name);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const report = await new TaskStore(contended, prefix).migrateAll().finally(() => writer.disconnect());
    expect(report).toMatchObject({ scanned: 2, migrated: {}, current: 0, malformed: [] });
    expect(report.skipped).toEqual(
      expect.arrayContaining([
        { key: `${prefix}:task:gone`, reason: "deleted while being migrated" },
        { key: `${prefix}:task:busy`, reason: expect.stringContaining("changed by another writer on each of 20 attempts") },
      ]),
    );
    expect(report.skipped).toHaveLength(2);
    // The busy record holds its writer's last update, still unmigrated.
    expect(busyWrites).toBe(20);
    expect(await stored("busy")).toMatchObject({ attempts: 20 });
    expect((await stored("busy")).schemaVersion).toBeUndefined();
  });

  it("matches the prefix literally, glob characters and all", async () => {
    await cleanPrefix(prefix);
    prefix = `${uniquePrefix("schema")}[x]*`;
    store = new TaskStore(redis, prefix);
    await put("1", v1("1"));
    await redis.set(`${prefix.replace("[x]*", "x")}:task:2`, v1("2"));
    expect(await store.migrateAll()).toMatchObject({ scanned: 1, migrated: { 1: 1 } });
    await redis.del(`${prefix.replace("[x]*", "x")}:task:2`);
  });
});

describe("the task store reads and writes versions", () => {
  it("writes new records and every update at the current version", async () => {
    expect((await store.ensure({ issueId: "a", identifier: "ENG-1", title: "t", issueUrl: null })).schemaVersion).toBe(TASK_SCHEMA_VERSION);
    expect((await stored("a")).schemaVersion).toBe(TASK_SCHEMA_VERSION);
    await put("b", v1("b"));
    expect((await store.get("b"))?.schemaVersion).toBe(TASK_SCHEMA_VERSION);
    // Read as current but left as stored until written.
    expect((await stored("b")).schemaVersion).toBeUndefined();
    await store.update("b", () => ({ step: "reading" }));
    expect(await stored("b")).toMatchObject({ schemaVersion: TASK_SCHEMA_VERSION, step: "reading" });
  });

  it("throws naming a newer or malformed record on get, and leaves it out of lists", async () => {
    const ok = await store.ensure({ issueId: "a", identifier: "ENG-1", title: "t", issueUrl: null });
    await put("b", v1("b", { schemaVersion: 3 }));
    await put("c", v1("c", { state: 42 }));
    await redis.zadd(`${prefix}:tasks`, 1, "b", 2, "c");
    await expect(store.get("b")).rejects.toThrow(`task record ENG-b (${prefix}:task:b) is schema version 3`);
    await expect(store.get("c")).rejects.toThrow(`task record ENG-c (${prefix}:task:c) is malformed: field "state"`);
    await expect(store.update("b", () => ({ step: "x" }))).rejects.toThrow("is schema version 3");
    expect(await store.list()).toEqual([ok]);
    const pages: string[] = [];
    for await (const page of store.pages(1)) pages.push(...page.map((t) => t.issueId));
    expect(pages).toEqual(["a"]);
  });
});

describe("job data versions", () => {
  it("stamps the version on every job the queues add: add, bulk and scheduler templates", async () => {
    const queues = createQueues(redis, prefix);
    try {
      const one = await queues.revise.add("revise", { kind: "revise", issueId: "i", repo: { owner: "o", name: "r" }, prNumber: 1 });
      const [bulk] = await queues.lifecycle.addBulk([{ name: "tick", data: { kind: "tick", parentIssueId: "p", reason: "r" } }]);
      const scheduled = await queues.reconcile.upsertJobScheduler("reconcile", { every: 60_000 }, { name: "reconcile", data: { kind: "reconcile" } });
      for (const job of [one, bulk, scheduled]) {
        expect(job?.data).toMatchObject({ schemaVersion: 2 });
      }
      // As stored, not only as returned.
      expect((await queues.revise.getJob(one.id as string))?.data).toMatchObject({ schemaVersion: 2, kind: "revise" });
      expect((await queues.reconcile.getJob(scheduled.id as string))?.data).toMatchObject({ schemaVersion: 2, kind: "reconcile" });
    } finally {
      await queues.close();
    }
  });
});
