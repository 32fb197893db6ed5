import { describe, expect, it } from "vitest";
import { parentStep } from "../../jobs/tree/tick.js";
import { childPhase, type RollupChild, renderRollup, treeTotals } from "../../src/status/rollup.js";
import { newTask, type PlannedSubtask, type SplitPlan, type Task } from "../../src/tasks/task.js";

const NOW = "2026-12-03T10:00:00.000Z";
const usage = (input: number) => ({ input, output: 100, cacheWrite: 0, cacheRead: 0 });

const sub = (key: string, n: number, dependsOn: string[] = [], patch: Partial<PlannedSubtask> = {}): PlannedSubtask => ({
  key,
  title: `Part ${key}`,
  brief: `Do ${key}.`,
  criteria: [],
  owns: [],
  dependsOn,
  issueId: `issue-${key}`,
  identifier: `ENG-${n}`,
  dropped: null,
  ...patch,
});

const plan = (subtasks: PlannedSubtask[], patch: Partial<SplitPlan> = {}): SplitPlan => ({
  status: "created",
  goal: "Ship the feature.",
  interfaces: "",
  subtasks,
  revisions: 0,
  approvalCommentId: null,
  proposedAt: NOW,
  approvedBy: "Ada",
  createdAt: NOW,
  rollupCommentId: null,
  budgetUsd: 8,
  budgetStoppedAt: null,
  manager: { usage: usage(1_000), costUsd: 0.02 },
  answered: [],
  ...patch,
});

const task = (id: string, identifier: string, patch: Partial<Task> = {}): Task => ({
  ...newTask({ issueId: id, identifier, title: identifier, issueUrl: null, now: NOW }),
  ...patch,
});

const parentOf = (p: SplitPlan, patch: Partial<Task> = {}) => task("parent", "ENG-1", { state: "managing", plan: p, ...patch });

function tree(subs: PlannedSubtask[], tasks: Record<string, Partial<Task> | null>): RollupChild[] {
  return subs.map((s) => {
    const patch = tasks[s.key];
    const t = patch ? task(s.issueId as string, s.identifier as string, patch) : null;
    return { sub: s, task: t, phase: childPhase(s, t) };
  });
}

describe("roll-up of a parent's sub-issues", () => {
  const subs = [sub("s1", 2), sub("s2", 3), sub("s3", 4, ["s1", "s2"]), sub("s4", 5, ["s1", "s2"])];

  it("is a checklist with state, PR, checks and cost per sub-issue, the total and the state-transfer share", () => {
    const children = tree(subs, {
      s1: { state: "merged", startedAt: NOW, prNumber: 11, prUrl: "https://gh/pull/11", checks: { command: "sh check.sh", passed: true, summary: "" }, costUsd: 0.5, usage: usage(9_000), transfer: { tokens: 300, brief: 200, notes: 100 } },
      s2: { state: "pr-open", startedAt: NOW, prNumber: 12, prUrl: "https://gh/pull/12", costUsd: 0.25, usage: usage(4_000), transfer: { tokens: 200, brief: 200, notes: 0 } },
      s3: { state: "queued", step: "waiting for ENG-3 to merge" },
      s4: null,
    });
    const body = renderRollup(parentOf(plan(subs)), children);
    expect(body).toContain("**Sub-issues of ENG-1** — 1 of 4 finished");
    expect(body).toContain("- [x] ENG-2 Part s1 — merged · PR [#11](https://gh/pull/11) · checks passed · $0.50");
    expect(body).toContain("- [ ] ENG-3 Part s2 — pull request in review · PR [#12](https://gh/pull/12) · $0.25");
    expect(body).toContain("- [ ] ENG-4 Part s3 — waiting for ENG-3");
    expect(body).toContain("- [ ] ENG-5 Part s4 — waiting for ENG-3");
    expect(body).toContain("**Total cost:** $0.77 (manager $0.02, sub-issues $0.75)");
    expect(body).toContain("**Tree budget:** $0.77 of $8.00 used");
    // 500 transfer tokens of 14,000 input tokens (manager 1,000 + 9,000 + 4,000).
    expect(body).toContain("ENG-2 300 · ENG-3 200 — 3.6% of all 14,000 input tokens");
    expect(body).not.toContain("Needs you");
    expect(body).not.toMatch(/updated \d{4}/);
  });

  it("strikes a dropped sub-issue through, checks it off, and lists failed ones under Needs you", () => {
    const dropped = [sub("s1", 2, [], { dropped: "canceled" }), sub("s2", 3, [], { dropped: "removed" }), sub("s3", 4)];
    const children = tree(dropped, { s3: { state: "failed", startedAt: NOW, error: "The checks failed\ntwice." } });
    const parent = parentOf(plan(dropped));
    const body = renderRollup(parent, children);
    expect(body).toContain("- [x] ~~ENG-2 Part s1~~ — dropped (cancelled in Linear)");
    expect(body).toContain("- [x] ~~ENG-3 Part s2~~ — dropped (removed in Linear)");
    expect(body).toContain("❗ **Needs you:**\n- ENG-4 failed: The checks failed twice.");
    expect(parentStep(parent, children)).toBe("needs you: ENG-4 failed");
  });

  it("says when the tree budget stopped new sub-issues, and the parent's step says it needs you", () => {
    const p = plan(subs, { budgetUsd: 0.5, budgetStoppedAt: NOW });
    const children = tree(subs, { s1: { state: "merged", startedAt: NOW, costUsd: 0.3 }, s2: { state: "merged", startedAt: NOW, costUsd: 0.3 } });
    const parent = parentOf(p);
    const body = renderRollup(parent, children);
    expect(body).toContain("- [ ] ENG-4 Part s3 — not started: the tree budget is reached");
    expect(body).toContain("⛔ **Tree budget reached:** no new sub-issue starts.");
    expect(treeTotals(parent, children).spentUsd).toBeCloseTo(0.62);
    expect(parentStep(parent, children)).toBe("needs you: tree budget reached ($0.62 of $0.50); no new sub-issue starts");
  });

  it("reads a sub-issue's phase from its task: not started, running, completed by a human, closed", () => {
    const s = sub("s1", 2);
    expect(childPhase(s, null)).toBe("waiting");
    expect(childPhase(s, task("i", "ENG-2", { state: "queued", step: "waiting for ENG-3 to merge" }))).toBe("waiting");
    expect(childPhase(s, task("i", "ENG-2", { state: "queued", startedAt: NOW }))).toBe("running");
    expect(childPhase(s, task("i", "ENG-2", { state: "stopped", startedAt: NOW }), true)).toBe("completed");
    expect(childPhase(s, task("i", "ENG-2", { state: "closed", startedAt: NOW }))).toBe("closed");
    expect(childPhase({ ...s, dropped: "canceled" }, task("i", "ENG-2", { state: "working" }))).toBe("dropped");
  });

  it("a blocker completed in Linear without a merged PR still blocks, and the parent needs you for its dependant", () => {
    const two = [sub("s1", 3), sub("s2", 5, ["s1"])];
    const children = two.map((s) => ({ sub: s, task: null, phase: childPhase(s, null, s.key === "s1") }));
    const parent = parentOf(plan(two));
    expect(parentStep(parent, children)).toBe("needs you: ENG-5 waits on ENG-3, completed in Linear without a merged PR");
    const body = renderRollup(parent, children);
    expect(body).toContain("- [ ] ENG-5 Part s2 — waiting for ENG-3");
    expect(body).toContain("❗ **Needs you:**\n- ENG-5 waits on ENG-3, completed in Linear without a merged PR");
  });

  it("shows a sub-issue a human added without the agent label as theirs, until it ran or Linear finished it", () => {
    const s = sub("added-ENG-9", 9);
    expect(childPhase(s, null, false, true)).toBe("human");
    expect(childPhase(s, null, true, true)).toBe("completed");
    expect(childPhase(s, task("i", "ENG-9", { state: "working", startedAt: NOW }), false, true)).toBe("running");
    const children = [{ sub: s, task: null, phase: childPhase(s, null, false, true) }];
    const parent = parentOf(plan([s]));
    expect(renderRollup(parent, children)).toContain("- [ ] ENG-9 Part added-ENG-9 — human: added without the agent label");
    expect(parentStep(parent, children)).toBe("sub-issues: 0 of 1 finished");
  });

  it("says a stopped parent is stopped", () => {
    const parent = parentOf(plan(subs), { state: "stopped", error: "Stopped because the agent label was removed." });
    expect(renderRollup(parent, tree(subs, {}))).toContain("⏹️ **Stopped:** the manager starts no sub-issue. Stopped because the agent label was removed.");
  });

  it("ends with a done line once the parent is done, and renders the same text twice (edits only on change)", () => {
    const children = tree(subs, Object.fromEntries(subs.map((s) => [s.key, { state: "merged" as const, startedAt: NOW }])));
    const parent = parentOf(plan(subs), { state: "done" });
    expect(renderRollup(parent, children)).toContain("4 of 4 finished");
    expect(renderRollup(parent, children)).toContain("✅ Every sub-issue is finished.");
    expect(renderRollup(parent, children)).toBe(renderRollup(parent, children));
  });
});
