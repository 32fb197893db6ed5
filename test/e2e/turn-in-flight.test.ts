import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { readCounters } from "../../src/metrics/cluster-counters.js";
import type { Task } from "../../src/tasks/task.js";
import { REDIS_URL } from "../helpers/redis.js";
import { create } from "../helpers/turns.js";
import { startWorld, type World } from "../helpers/world.js";

let world: World | undefined;
let sub: Redis | undefined;
afterEach(async () => {
  sub?.disconnect();
  sub = undefined;
  await world?.close();
  world = undefined;
});

describe("a model call in flight", () => {
  it("is shown once it has lasted two seconds, from its real start; a quick call is never written", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([
      create("greet.txt", "hello, world\n"),
      { content: [{ type: "text", text: "## Summary\ngreet.txt now says hello, world." }], delayMs: 3_500 },
    ]);
    const events: Task[] = [];
    sub = new Redis(REDIS_URL);
    sub.on("message", (_c, m: string) => events.push(JSON.parse(m) as Task));
    await sub.subscribe(w.deps.tasks.channel);

    const res = await w.labelIssue(issue);
    const marked = (await w.waitFor(() => events.find((t) => t.issueId === issue.id && t.turnStartedAt), "the slow call to be marked in flight")) as Task;
    // The slow call is the second: the first turn is booked, and the mark was written about two
    // seconds after the call began, with the time it began.
    expect(marked.turns).toBe(1);
    const shownAfter = Date.parse(marked.updatedAt) - Date.parse(marked.turnStartedAt as string);
    expect(shownAfter).toBeGreaterThanOrEqual(1_900);
    expect(shownAfter).toBeLessThan(3_500);
    // The first call ended before then: it never was.
    expect(events.filter((t) => t.issueId === issue.id && t.turnStartedAt && t.turns === 0)).toEqual([]);

    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    const task = await w.deps.tasks.get(issue.id);
    expect(task).toMatchObject({ state: "pr-open", turns: 2, turnStartedAt: null });
    // The pass sent its workforce totals as it ended, not a flush interval later.
    expect((await readCounters(w.deps.redis, w.deps.config.redisPrefix)).turns).toBe(2);
  }, 60_000);
});
