import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { treeBudgetLeft } from "../../jobs/tree/tree-budget.js";
import type { PlannedSubtask, SplitPlan, Task, TaskState } from "../../src/tasks/task.js";
import { TaskStore } from "../../src/tasks/task-store.js";
import { cleanPrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

// A sub-issue's share of its tree's budget, read from task records seeded in a real Redis.

const prefix = uniquePrefix("tree-budget");
let redis: Redis;
let tasks: TaskStore;
const zero = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

const sub = (key: string): PlannedSubtask => ({ key, title: key, brief: "", criteria: [], owns: [], dependsOn: [], issueId: `child-${key}`, identifier: `ENG-1${key.slice(1)}` });

const plan = (p: Partial<SplitPlan>): SplitPlan => ({
  status: "created",
  goal: "",
  interfaces: "",
  subtasks: ["s1", "s2", "s3", "s4"].map(sub),
  revisions: 0,
  approvalCommentId: null,
  proposedAt: "2026-03-02T10:00:00.000Z",
  approvedBy: null,
  createdAt: null,
  rollupCommentId: null,
  budgetUsd: 10,
  budgetStoppedAt: null,
  manager: { usage: zero, costUsd: 1 },
  answered: [],
  ...p,
});

/** Seeds a task, walking it through legal moves to `states` (the last is where it stays). */
async function seed(issueId: string, patch: Partial<Task>, states: TaskState[] = []): Promise<Task> {
  await tasks.ensure({ issueId, identifier: issueId.toUpperCase(), title: issueId, issueUrl: null });
  for (const state of states) await tasks.update(issueId, () => ({ state }));
  return tasks.update(issueId, () => patch);
}

const childOf = (key: string) => ({ issueId: `child-${key}`, parent: { issueId: "parent", identifier: "ENG-1", key } });

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  tasks = new TaskStore(redis, prefix);
  await seed("parent", { plan: plan({}) }, ["managing"]);
  // Spent so far: the manager $1, the children $1 + $2 + $0.5 (s4 was dropped: its spend counts) = $4.5; $5.5 left.
  await seed("child-s1", { costUsd: 1, parent: childOf("s1").parent }, ["working"]);
  await seed("child-s2", { costUsd: 2, parent: childOf("s2").parent }, ["working", "checking"]);
  await seed("child-s3", { costUsd: 0, parent: childOf("s3").parent });
  await seed("child-s4", { costUsd: 0.5, parent: childOf("s4").parent }, ["stopped"]);
});
afterAll(async () => {
  redis.disconnect();
  await cleanPrefix(prefix);
});

describe("treeBudgetLeft: children running side by side share what the tree has left", () => {
  it("a running child gets what is left divided by the children running now (itself among them)", async () => {
    expect(await treeBudgetLeft({ tasks }, childOf("s1"))).toBeCloseTo(5.5 / 2);
    expect(await treeBudgetLeft({ tasks }, childOf("s2"))).toBeCloseTo(5.5 / 2);
  });

  it("a child about to start counts itself once more: three share it", async () => {
    expect(await treeBudgetLeft({ tasks }, childOf("s3"))).toBeCloseTo(5.5 / 3);
  });

  it("a child revising is running too; one alone gets the whole remainder", async () => {
    await tasks.update("child-s2", () => ({ state: "pr-open" }));
    expect(await treeBudgetLeft({ tasks }, childOf("s1"))).toBeCloseTo(5.5);
    await tasks.update("child-s2", () => ({ state: "revising" }));
    expect(await treeBudgetLeft({ tasks }, childOf("s1"))).toBeCloseTo(5.5 / 2);
  });

  it("nothing left is 0 for everyone; no parent or no budget is null", async () => {
    await tasks.update("child-s1", () => ({ costUsd: 20 }));
    expect(await treeBudgetLeft({ tasks }, childOf("s3"))).toBe(0);
    expect(await treeBudgetLeft({ tasks }, { issueId: "child-s1", parent: null })).toBeNull();
    await tasks.update("parent", (t) => ({ plan: { ...t.plan!, budgetUsd: 0 } }));
    expect(await treeBudgetLeft({ tasks }, childOf("s1"))).toBeNull();
  });
});
