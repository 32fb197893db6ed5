import { afterEach, describe, expect, it } from "vitest";
import type { FakeIssue } from "../fakes/linear/index.js";
import type { PlannedSubtask, SplitPlan, Task, TaskState } from "../../src/tasks/task.js";
import { blockersOf } from "../../jobs/tree/blockers.js";
import { bash, create, say } from "../helpers/turns.js";
import { startWorld, type World } from "../helpers/world.js";

// A sub-issue of a split plan, through the real service: it waits for its blockers to merge
// (holding nothing), then starts with its parent's goal, the agreed interfaces and its blockers'
// reports, never their transcripts; its session spends no more than the tree has left.

const GOAL = "MARKER-GOAL: widgets can be parsed from text and rendered back.";
const INTERFACES = "parseWidget(text: string): Widget in src/widget.ts";

const reportOf = (summary: string) => `## Summary\n${summary}\n## Files\nparser.txt\n## Decisions\nnone\n## Open points\nnone`;

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** A Linear sub-issue of `parent`, labelled for the agent. */
function subIssue(w: World, parent: FakeIssue, title: string, description: string): FakeIssue {
  return w.linear.store.seedIssue({ teamId: w.team.id, title, description, labelIds: [w.agentLabel.id], parentId: parent.id });
}

/** A task record walked through legal moves to `path`'s last state, then patched. */
async function seedTask(w: World, issue: FakeIssue, path: TaskState[], patch: Partial<Task> = {}): Promise<Task> {
  await w.deps.tasks.ensure({ issueId: issue.id, identifier: issue.identifier, title: issue.title, issueUrl: issue.url });
  for (const state of path) await w.deps.tasks.update(issue.id, () => ({ state }));
  return w.deps.tasks.update(issue.id, () => patch);
}

function planned(key: string, issue: FakeIssue, dependsOn: string[]): PlannedSubtask {
  return { key, title: issue.title, brief: issue.description ?? "", criteria: [], owns: [], dependsOn, issueId: issue.id, identifier: issue.identifier, dropped: null };
}

function planOf(subtasks: PlannedSubtask[], budget: { budgetUsd: number; managerCostUsd: number }): SplitPlan {
  const now = new Date().toISOString();
  return {
    status: "created",
    goal: GOAL,
    interfaces: INTERFACES,
    subtasks,
    revisions: 0,
    approvalCommentId: null,
    proposedAt: now,
    approvedBy: null,
    createdAt: now,
    rollupCommentId: null,
    budgetUsd: budget.budgetUsd,
    budgetStoppedAt: null,
    manager: { usage: { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 }, costUsd: budget.managerCostUsd },
    answered: [],
  };
}

/** A parent issue with three sub-issues: s3 depends on s1 and s2. */
async function tree(w: World, budget = { budgetUsd: 20, managerCostUsd: 0.01 }) {
  const parent = w.linear.store.seedIssue({ teamId: w.team.id, title: "Widgets", description: "MARKER-PARENT-DESCRIPTION: the whole story." });
  const s1 = subIssue(w, parent, "Parser", "Write the parser.");
  const s2 = subIssue(w, parent, "Renderer", "Write the renderer.");
  const s3 = subIssue(w, parent, "Round trip", "Parse then render; MARKER-BRIEF-S3.");
  const plan = planOf([planned("s1", s1, []), planned("s2", s2, []), planned("s3", s3, ["s1", "s2"])], budget);
  await seedTask(w, parent, ["managing"], { plan });
  const ref = (key: string) => ({ parent: { issueId: parent.id, identifier: parent.identifier, key } });
  await seedTask(w, s1, [], ref("s1"));
  await seedTask(w, s2, [], ref("s2"));
  await seedTask(w, s3, [], ref("s3"));
  return { parent, s1, s2, s3 };
}

const text = (body: unknown) => JSON.stringify(body);

describe("sub-issue context: blockers, hand-off notes, tree budget", () => {
  it("waits for its blockers to merge, then starts with their reports and the parent's goal, not their transcripts", async () => {
    world = await startWorld();
    const w = world;
    const { parent, s1, s2, s3 } = await tree(w);
    // s2 is at work elsewhere (this test writes its outcome), so the manager's ticks never start it.
    await w.deps.tasks.update(s2.id, () => ({ state: "working" }));

    // s1 runs for real: its transcript holds a marker that its report does not.
    w.anthropic.script([
      bash("echo MARKER-TRANSCRIPT-S1"),
      create("parser.txt", "parser\n"),
      say(`Recap of the whole conversation: MARKER-TRANSCRIPT-PREAMBLE\n${reportOf("MARKER-NOTE-S1 added the parser.")}\n## Acceptance criteria\n1. met: MARKER-TRANSCRIPT-CRITERIA`),
    ]);
    const first = await w.labelIssue(s1);
    expect(await w.waitForJob(first.body.jobId as string)).toBe("completed");
    const s1Task = (await w.deps.tasks.get(s1.id))!;
    expect(s1Task.state).toBe("pr-open");
    expect(s1Task.handoff).toContain("MARKER-NOTE-S1");
    expect(w.anthropic.requests.some((r) => text(r.body).includes("MARKER-TRANSCRIPT-S1"))).toBe(true);
    // s1 has no blockers: it received the goal and interfaces only.
    expect(s1Task.transfer).toMatchObject({ brief: Math.ceil("Write the parser.".length / 4) });
    await w.deps.tasks.update(s1.id, () => ({ state: "merged" }));

    // s3 waits for s2, holding nothing: its job ends without a model call.
    const before = w.anthropic.requests.length;
    const waiting = await w.labelIssue(s3);
    expect(await w.waitForJob(waiting.body.jobId as string)).toBe("completed");
    const waited = (await w.deps.tasks.get(s3.id))!;
    expect(waited).toMatchObject({ state: "queued", step: `waiting for ${s2.identifier} to merge` });
    expect(w.anthropic.requests.length).toBe(before);
    expect(w.logs.some((l) => l.includes("waits for its blockers to merge"))).toBe(true);

    // s2 merges; the next implement job (the manager's tick enqueues one) lets s3 through.
    await seedTask(w, s2, ["pr-open", "merged"], { handoff: reportOf("MARKER-NOTE-S2 added the renderer.") });
    w.anthropic.script([create("roundtrip.txt", "round trip\n"), say(reportOf("Round trip works."))]);
    const go = await w.labelIssue(s3);
    expect(go.body.jobId).not.toBe(waiting.body.jobId);
    expect(await w.waitForJob(go.body.jobId as string)).toBe("completed");
    const s3Task = (await w.deps.tasks.get(s3.id))!;
    expect(s3Task.state).toBe("pr-open");

    const s3Requests = w.anthropic.requests.slice(before);
    expect(s3Requests.length).toBeGreaterThan(0);
    const firstMessage = text(s3Requests[0]!.body.messages[0]);
    expect(firstMessage).toContain("MARKER-BRIEF-S3");
    expect(firstMessage).toContain("MARKER-GOAL");
    expect(firstMessage).toContain("parseWidget(text: string)");
    expect(firstMessage).toContain("MARKER-NOTE-S1");
    expect(firstMessage).toContain("MARKER-NOTE-S2");
    expect(firstMessage).toContain(`dependency_note from=\\"${s1.identifier}\\"`);
    for (const r of s3Requests) {
      const all = text(r.body);
      expect(all).not.toContain("MARKER-TRANSCRIPT");
      expect(all).not.toContain("MARKER-PARENT-DESCRIPTION");
    }

    // The state transfer is recorded: the brief, and goal + interfaces + notes, estimated.
    const transfer = s3Task.transfer!;
    expect(transfer.brief).toBe(Math.ceil("Parse then render; MARKER-BRIEF-S3.".length / 4));
    expect(transfer.notes).toBeGreaterThan(Math.ceil((GOAL.length + INTERFACES.length) / 4));
    expect(transfer.notes).toBeLessThan(2_000);
    expect(transfer.tokens).toBe(transfer.brief + transfer.notes);
    expect((await w.deps.tasks.get(parent.id))?.state).toBe("managing");
  }, 60_000);

  it("caps a sub-issue's session at what its tree has left, and starts none once the tree budget is spent", async () => {
    world = await startWorld();
    const w = world;
    // $1 for the tree: the manager spent $0.50 and s1 $0.4999, so $0.0001 is left, shared by s1
    // (still working) and s2: s2 may spend $0.00005.
    const { parent, s1, s2, s3 } = await tree(w, { budgetUsd: 1, managerCostUsd: 0.5 });
    await w.deps.tasks.update(s1.id, () => ({ state: "working", costUsd: 0.4999 }));

    w.anthropic.script([bash("echo one"), bash("echo two"), say(reportOf("never reached"))]);
    const before = w.anthropic.requests.length;
    const res = await w.labelIssue(s2);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("failed");
    // One model call, then the session stopped on its budget (the job's own is $5 by default).
    expect(w.anthropic.requests.length - before).toBe(1);
    const s2Task = (await w.deps.tasks.get(s2.id))!;
    expect(s2Task.state).toBe("failed");
    expect(s2Task.error).toMatch(/budget/);
    const capped = w.logs.find((l) => l.includes("capped by what its tree has left"));
    expect(capped && JSON.parse(capped)).toMatchObject({ treeLeftUsd: expect.closeTo(0.00005, 8), budgetUsd: expect.closeTo(0.00005, 8) });

    // The manager marks the budget spent: no further child starts, and says why.
    await w.deps.tasks.update(parent.id, (t) => ({ plan: { ...t.plan!, budgetStoppedAt: new Date().toISOString(), subtasks: t.plan!.subtasks.map((s) => ({ ...s, dependsOn: [] })) } }));
    const after = w.anthropic.requests.length;
    const refused = await w.labelIssue(s3);
    expect(await w.waitForJob(refused.body.jobId as string)).toBe("completed");
    expect((await w.deps.tasks.get(s3.id))?.step).toMatch(/^not started: the tree budget of ENG-1 \(\$1\.00\) is used up/);
    expect(w.anthropic.requests.length).toBe(after);
  }, 60_000);

  it("blockersOf: merged and dropped blockers are satisfied; the rest are open, by identifier or, before creation, by key", async () => {
    world = await startWorld({ startWorkers: false });
    const w = world;
    const { parent, s1, s2, s3 } = await tree(w);
    const s3Task = (await w.deps.tasks.get(s3.id))!;
    expect(await blockersOf(w.deps, s3Task)).toMatchObject({ open: [s1.identifier, s2.identifier], merged: [] });

    await seedTask(w, s1, ["working", "pr-open", "merged"], { handoff: "## Summary\nparser" });
    const one = await blockersOf(w.deps, s3Task);
    expect(one.open).toEqual([s2.identifier]);
    expect(one.merged.map((t) => t.identifier)).toEqual([s1.identifier]);
    expect(one.parent?.issueId).toBe(parent.id);

    // A sub-issue not created yet is named by its key; one a human cancelled blocks nothing.
    await w.deps.tasks.update(parent.id, (t) => ({
      plan: { ...t.plan!, subtasks: t.plan!.subtasks.map((s) => (s.key === "s2" ? { ...s, issueId: null, identifier: null } : s)) },
    }));
    expect((await blockersOf(w.deps, s3Task)).open).toEqual(["s2"]);
    await w.deps.tasks.update(parent.id, (t) => ({
      plan: { ...t.plan!, subtasks: t.plan!.subtasks.map((s) => (s.key === "s2" ? { ...s, dropped: "canceled" as const } : s)) },
    }));
    expect(await blockersOf(w.deps, s3Task)).toMatchObject({ open: [], merged: [{ identifier: s1.identifier }] });
    // Not a sub-issue: nothing blocks it.
    expect(await blockersOf(w.deps, (await w.deps.tasks.get(parent.id))!)).toEqual({ parent: null, open: [], merged: [] });
  });
});
