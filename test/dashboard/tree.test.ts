// Triage, "needs you" and parents with their sub-issues, as the dashboard renders them from task records.
import { describe, expect, it } from "vitest";
import { computeFigures, managerSpend, needsYou, stateTransfer } from "../../src/dashboard/figures.js";
import { renderPage } from "../../src/dashboard/render.js";
import { stateCell } from "../../src/dashboard/state-cell.js";
import { parentNeedsYou, progressLine, rollupChildren, subIssueProgress, treeOrder } from "../../src/dashboard/tree-rows.js";
import { childPhase, renderRollup, treeTotals } from "../../src/status/rollup.js";
import { parentMarker, triageLabel, triageMarker } from "../../src/dashboard/triage-cell.js";
import { newTask, type Task } from "../../src/tasks/task.js";
import { plan, sub, triage, usage } from "./tree-seed.js";

const T0 = Date.parse("2026-03-02T08:00:00.000Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const NOW = T0 + 120 * 60_000;

function task(id: string, p: Partial<Task> = {}): Task {
  const base = newTask({ issueId: id, identifier: id.toUpperCase(), title: `Task ${id}`, issueUrl: null, now: at(0) });
  return { ...base, repo: { owner: "acme", name: "widgets" }, ...p };
}

const parentRef = (key: string) => ({ issueId: "p", identifier: "P", key });
const child = (key: string, p: Partial<Task> = {}) =>
  task(`c-${key}`, { parent: parentRef(key), transfer: { tokens: 500, brief: 300, notes: 200 }, usage: usage(4500), ...p });

describe("triage marker", () => {
  it("shows the verdict and the criteria count, with the rationale and its cost as the tooltip", () => {
    const t = task("a", { triage: triage() });
    expect(triageLabel(t)).toBe("ready · 2 criteria");
    const html = triageMarker(t);
    expect(html).toContain('data-verdict="ready"');
    expect(html).toContain("A clear, bounded change &lt;in one route&gt;.");
    expect(html).toContain("part of this task&#39;s cost");
    expect(triageLabel(task("b", { triage: triage({ verdict: "clarify", criteria: [], questions: ["Which currency?"] }) }))).toBe(
      "clarify · 1 question",
    );
    expect(triageLabel(task("c", { triage: triage({ verdict: "split", criteria: ["x"] }), plan: plan() }))).toBe("split · 4 sub-issues · 1 criterion");
    expect(triageMarker(task("d"))).toBe("");
  });

  it("names a sub-issue's parent, with the state-transfer tokens it received as the tooltip", () => {
    const html = parentMarker(child("s1"));
    expect(html).toContain("part of P");
    expect(html).toContain("state transfer: 500 tokens received (brief 300, dependency notes 200)");
    expect(parentMarker(task("e"))).toBe("");
  });
});

describe("parents and sub-issues", () => {
  const parent = task("p", { state: "managing", plan: plan(), triage: triage({ verdict: "split" }) });
  const kids = [child("s3", { state: "working" }), child("s1", { state: "merged" }), child("s2", { state: "merged" }), child("s4")];

  it("counts merged sub-issues against the plan, leaving dropped ones out", () => {
    expect(progressLine(subIssueProgress(parent, kids))).toBe("2 of 4 sub-issues merged");
    const dropped = { ...parent, plan: plan({ subtasks: [sub("s1"), sub("s2", [], { dropped: "canceled" })] }) };
    expect(progressLine(subIssueProgress(dropped, [child("s1", { state: "merged" })]))).toBe("1 of 1 sub-issue merged");
    expect(subIssueProgress(task("x"), [])).toBeNull();
  });

  it("puts each child under its parent in plan order, and leaves orphans in place", () => {
    const other = task("o");
    const orphan = task("q", { parent: { issueId: "gone", identifier: "G", key: "s1" } });
    const order = treeOrder([kids[0]!, other, parent, kids[1]!, orphan, kids[2]!, kids[3]!]);
    expect(order.map((t) => t.issueId)).toEqual(["o", "p", "c-s1", "c-s2", "c-s3", "c-s4", "q"]);
  });

  it("needs a person when a child failed or was stopped, or when the tree job says so", () => {
    expect(parentNeedsYou(parent, kids)).toBeNull();
    const failed = [...kids, child("s5", { state: "failed", error: "checks fail" })];
    expect(parentNeedsYou(parent, failed)).toBe("sub-issue C-S5 failed: checks fail");
    const said = { ...parent, step: "needs you: the tree budget is spent" };
    expect(parentNeedsYou(said, kids)).toBe("the tree budget is spent");
    expect(parentNeedsYou(task("plain", { state: "working" }), failed)).toBeNull();
  });

  it("ignores a sub-issue a human cancelled in Linear, and counts no progress for a plan still awaiting approval", () => {
    const cancelled = { ...parent, plan: plan({ subtasks: [sub("s1"), sub("s2", [], { dropped: "canceled" })] }) };
    const stoppedByHuman = [child("s1", { state: "merged", costUsd: 1 }), child("s2", { state: "stopped", costUsd: 0.5 })];
    expect(parentNeedsYou(cancelled, stoppedByHuman)).toBeNull();
    const p = subIssueProgress({ ...cancelled, costUsd: 0.25 }, stoppedByHuman);
    expect(p).toMatchObject({ merged: 1, total: 1, stuck: [] });
    // The roll-up's total (treeTotals): the plan's manager cost ($0.01) and every child's, not the parent's own costUsd.
    expect(p?.costUsd).toBeCloseTo(1.51, 10);
    expect(subIssueProgress(task("w", { state: "needs-input", plan: plan({ status: "proposed" }) }), [])).toBeNull();
  });

  it("agrees with the roll-up: a closed PR needs a person, a done child is finished, a dropped one counts for neither", () => {
    const p = { ...parent, plan: plan({ subtasks: [sub("s1"), sub("s2"), sub("s3", [], { dropped: "removed" }), sub("s4")] }) };
    const tree = [child("s1", { state: "done", costUsd: 2 }), child("s2", { state: "closed", costUsd: 1 }), child("s3", { state: "failed", costUsd: 0.5 }), child("s4")];
    const progress = subIssueProgress(p, tree);
    expect(progress).toMatchObject({ merged: 1, total: 3 });
    expect(progress?.stuck.map((t) => t.issueId)).toEqual(["c-s2"]);
    expect(parentNeedsYou(p, tree)).toBe("sub-issue C-S2 closed without merging");
    // Same children, same phases, same total as the parent's roll-up comment.
    const rollup = rollupChildren(p, tree);
    expect(rollup.map((c) => c.phase)).toEqual(["merged", "closed", "dropped", "waiting"]);
    expect(rollup.map((c) => c.phase)).toEqual(rollup.map((c) => childPhase(c.sub, c.task)));
    expect(progress?.costUsd).toBeCloseTo(treeTotals(p, rollup).spentUsd, 10);
    expect(progress?.costUsd).toBeCloseTo(3.51, 10);
    expect(renderRollup(p, rollup)).toContain("2 of 4 finished");
    expect(renderRollup(p, rollup)).toContain("**Total cost:** $3.51");
    const items = needsYou([p, ...tree]);
    expect(items.find((i) => i.task.issueId === "p")).toMatchObject({ kind: "tree", reason: "Sub-issue C-S2 closed without merging" });
  });

  it("renders a stuck managing parent's badge as Needs you, and a calm one as Managing with its progress", () => {
    const calm = stateCell(parent, NOW, { progress: "2 of 4 sub-issues merged", needsYou: null });
    expect(calm).toContain(">Managing</span>");
    expect(calm).toContain("2 of 4 sub-issues merged");
    const stuck = stateCell(parent, NOW, { progress: "2 of 4 sub-issues merged", needsYou: "sub-issue C-S3 failed" });
    expect(stuck).toContain('class="badge s-needs-you">Needs you</span>');
    expect(stuck).toContain("2 of 4 sub-issues merged · sub-issue C-S3 failed");
    const done = stateCell({ ...parent, state: "done", step: null }, NOW, { progress: "4 of 4 sub-issues merged", needsYou: null });
    expect(done).toContain(">Done</span>");
  });
});

describe("needs you: clarifications, plans and trees", () => {
  it("shows the first question, the plan awaiting approval and the parent whose child failed", () => {
    const asks = task("a", {
      state: "needs-input",
      triage: triage({ verdict: "clarify", questions: ["Which currency?", "Round up or down?"] }),
      clarification: { questions: ["Which currency?", "Round up or down?"], askedAt: at(10), commentId: "cm", askedOf: "Ada", open: true, answers: [] },
    });
    const proposed = task("b", { state: "needs-input", plan: plan({ status: "proposed", proposedAt: at(20) }) });
    const parent = task("p", { state: "managing", plan: plan() });
    const failed = child("s2", { state: "failed", error: "push refused", finishedAt: at(30) });
    const items = needsYou([parent, failed, proposed, asks, child("s1", { state: "working" })]);
    expect(items.map((i) => [i.kind, i.task.issueId])).toEqual([
      ["question", "a"],
      ["plan", "b"],
      ["failed", "c-s2"],
      ["tree", "p"],
    ]);
    expect(items[0]?.reason).toBe("Triage asks: Which currency? (and 1 more)");
    expect(items[0]?.since).toBe(at(10));
    expect(items[1]?.reason).toBe("A plan of 4 sub-issues awaits approval: reply to the plan comment.");
    expect(items[3]?.reason).toBe("Sub-issue C-S2 failed: push refused");
  });
});

describe("state transfer and the manager's tokens", () => {
  const parent = task("p", { state: "managing", plan: plan(), usage: usage(3000, 800), costUsd: 0.01 });
  const kids = [child("s1", { state: "merged" }), child("s2", { usage: usage(1000, 100, 3000, 500), transfer: { tokens: 900, brief: 400, notes: 500 } })];
  const single = task("t", { triage: triage(), usage: usage(9000, 1000), costUsd: 0.2 });

  it("divides the children's received tokens by every task's input tokens (fresh, cache read, cache write)", () => {
    const input = 3000 + 4500 + (1000 + 3000 + 500) + 9000;
    expect(stateTransfer([parent, ...kids, single])).toEqual({ tokens: 1400, inputTokens: input, share: 1400 / input });
    expect(stateTransfer([task("z")]).share).toBeNull();
  });

  it("sums the plan's manager calls and every other task's triage", () => {
    const m = managerSpend([parent, ...kids, single]);
    expect(m.tokens).toBe(3800 + 1400);
    expect(m.costUsd).toBeCloseTo(0.012, 10);
  });

  it("shows both as figures, with triage markers and children indented under their parent", () => {
    const all = [single, kids[1]!, parent, kids[0]!];
    const figures = computeFigures(all, { todayUsd: 0, dailyBudgetUsd: undefined });
    const html = renderPage({ all, shown: all, repos: [], filter: { state: null, repo: null }, figures, needs: needsYou(all), now: NOW, nonce: "n" });
    expect(html).toContain('data-figure="state-transfer"');
    expect(html).toMatch(/data-figure="state-transfer".*?<div class="v">7%<\/div>/s);
    expect(html).toContain("1.4k of 21.0k input tokens");
    expect(html).toContain('data-figure="manager"');
    const rowOrder = [...html.matchAll(/<tr data-issue="([^"]+)"/g)].map((m) => m[1]);
    expect(rowOrder).toEqual(["t", "p", "c-s1", "c-s2"]);
    expect(html).toContain('<tr data-issue="c-s1" data-state="merged" class="child">');
    expect(html).toContain("1 of 4 sub-issues merged");
    expect(html).toContain('data-verdict="ready"');
  });
});
