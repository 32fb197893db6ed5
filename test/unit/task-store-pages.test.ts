import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskStore } from "../../src/tasks/task-store.js";
import { cleanPrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

const prefix = uniquePrefix("pages");
let redis: Redis;
let store: TaskStore;

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  store = new TaskStore(redis, prefix);
  for (let i = 0; i < 23; i++) {
    await store.ensure({ issueId: `issue-${i}`, identifier: `ENG-${i}`, title: `Task ${i}`, issueUrl: null });
  }
});
afterAll(async () => {
  redis.disconnect();
  await cleanPrefix(prefix);
});

describe("TaskStore.pages", () => {
  it("walks every task a page at a time, each once, with no cap", async () => {
    const sizes: number[] = [];
    const seen: string[] = [];
    for await (const page of store.pages(10)) {
      sizes.push(page.length);
      seen.push(...page.map((t) => t.issueId));
    }
    expect(sizes).toEqual([10, 10, 3]);
    expect(new Set(seen).size).toBe(23);
    expect(seen.sort()).toEqual(Array.from({ length: 23 }, (_, i) => `issue-${i}`).sort());
  });
});
