import { afterEach, expect, it } from "vitest";
import type { SplitPlan, Task } from "../../src/tasks/task.js";
import { startWorld, type World } from "../helpers/world.js";

// A split parent is managed, never worked on: a new implement job for it (its label added again,
// a retried job after the plan was saved) hands it back to the manager from any state.

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

it("labelling a finished split parent again hands it to the manager, which finds it done; no agent runs", async () => {
  world = await startWorld({ env: { AGENT_TRIAGE: "on", LINEAR_REQUESTS_PER_HOUR: "360000" } });
  const w = world;
  const parent = w.newIssue({ title: "Build the whole feature" });
  const child = w.linear.store.seedIssue({ teamId: w.team.id, title: "Part s1", labelIds: [w.agentLabel.id], parentId: parent.id });
  const now = new Date().toISOString();
  const plan: SplitPlan = {
    status: "created",
    goal: "Ship it.",
    interfaces: "none",
    subtasks: [{ key: "s1", title: "Part s1", brief: "b", criteria: [], owns: [], dependsOn: [], issueId: child.id, identifier: child.identifier, dropped: null }],
    revisions: 0,
    approvalCommentId: null,
    proposedAt: now,
    approvedBy: "Ada",
    createdAt: now,
    rollupCommentId: null,
    budgetUsd: 10,
    budgetStoppedAt: null,
    manager: { usage: { input: 1, output: 1, cacheWrite: 0, cacheRead: 0 }, costUsd: 0.01 },
    answered: [],
  };
  const tasks = w.deps.tasks;
  await tasks.ensure({ issueId: parent.id, identifier: parent.identifier, title: parent.title, issueUrl: parent.url });
  await tasks.update(parent.id, () => ({ state: "managing", teamId: w.team.id, plan }));
  await tasks.update(parent.id, () => ({ state: "done", finishedAt: now }));
  await tasks.ensure({ issueId: child.id, identifier: child.identifier, title: child.title, issueUrl: child.url });
  await tasks.update(child.id, () => ({ parent: { issueId: parent.id, identifier: parent.identifier, key: "s1" }, state: "working" }));
  await tasks.update(child.id, () => ({ state: "pr-open" }));
  await tasks.update(child.id, () => ({ state: "merged" }));

  const res = await w.labelIssue(parent);
  expect(await w.waitForJob(String(res.body.jobId))).toBe("completed");
  await w.waitFor(() => w.logs.some((l) => l.includes("the issue is split into sub-issues")), "the gate hands the parent to the manager");
  const after = (await tasks.get(parent.id)) as Task;
  expect(["managing", "done"]).toContain(after.state);
  await w.waitFor(async () => (await tasks.get(parent.id))?.state === "done", "the tick finds the tree done again", 20_000);
  expect(w.anthropic.requests).toHaveLength(0);
}, 60_000);
