import { describe, expect, it } from "vitest";
import { computeFigures, median, needsYou } from "../../src/dashboard/figures.js";
import { applyFilter, parseFilter } from "../../src/dashboard/filters.js";
import { newTask, type Task } from "../../src/tasks/task.js";

const T0 = Date.parse("2026-03-02T08:00:00.000Z");
const at = (hours: number) => new Date(T0 + hours * 3_600_000).toISOString();

let n = 0;
function task(p: Partial<Task> = {}): Task {
  n += 1;
  const base = newTask({ issueId: `i${n}`, identifier: `ENG-${n}`, title: `Task ${n}`, issueUrl: null, now: at(0) });
  return { ...base, repo: { owner: "acme", name: "widgets" }, ...p };
}
const usage = (each: number) => ({ input: each, output: each, cacheRead: each, cacheWrite: each });
const withPr = (pr: number, openedAfterHours: number): Partial<Task> => ({
  prNumber: pr,
  prUrl: `https://github.com/acme/widgets/pull/${pr}`,
  prOpenedAt: at(openedAfterHours),
  finishedAt: at(openedAfterHours),
});

describe("computeFigures", () => {
  const tasks = [
    task({ state: "merged", ...withPr(1, 2), revisions: 2, costUsd: 1.0, usage: usage(1000) }),
    task({ state: "merged", ...withPr(2, 4), revisions: 0, costUsd: 0.5, usage: usage(500) }),
    task({ state: "closed", ...withPr(3, 1), revisions: 1, costUsd: 0.3, usage: usage(250) }),
    task({ state: "pr-open", ...withPr(4, 6), revisions: 1, costUsd: 0.4, usage: usage(250) }),
    task({ state: "failed", error: "push refused", costUsd: 0.2, usage: usage(100) }),
    task({ state: "working", step: "turn 3: bash", costUsd: 0.1 }),
    task({ state: "queued", step: "waiting: acme/widgets already has 2 agents at work (its limit); position 1 in line" }),
  ];
  const f = computeFigures(tasks, { todayUsd: 1.75, dailyBudgetUsd: 20 });

  it("counts tasks, PRs and the merge rate over decided PRs", () => {
    expect(f).toMatchObject({ tasks: 7, active: 1, queued: 1, done: 2, prsOpened: 4, prsMerged: 2, prsClosed: 1 });
    expect(f.mergeRate).toBeCloseTo(2 / 3, 10);
  });

  it("averages revisions over tasks with a PR and takes the median label → PR time", () => {
    expect(f.revisionsPerPr).toBe(1); // (2 + 0 + 1 + 1) / 4
    expect(f.medianLabelToPrMs).toBe(3 * 3_600_000); // median of 1h, 2h, 4h, 6h
  });

  it("charges all spend, failed work included, to the merged PRs", () => {
    expect(f.totalCostUsd).toBeCloseTo(2.5, 10);
    expect(f.costPerMergedPr).toBeCloseTo(1.25, 10);
    expect(f.totalTokens).toBe(4 * (1000 + 500 + 250 + 250 + 100));
    expect(f.tokensPerMergedPr).toBe((4 * 2100) / 2);
    expect(f).toMatchObject({ spendTodayUsd: 1.75, dailyBudgetUsd: 20 });
  });

  it("has no rates before there is anything to divide", () => {
    const empty = computeFigures([task({ state: "working" })], { todayUsd: 0, dailyBudgetUsd: undefined });
    expect(empty).toMatchObject({
      mergeRate: null,
      revisionsPerPr: null,
      medianLabelToPrMs: null,
      costPerMergedPr: null,
      tokensPerMergedPr: null,
      dailyBudgetUsd: null,
    });
  });

  it("takes the middle value, or the mean of the two middle values", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});

describe("needsYou", () => {
  it("lists questions, failures (newest first), then the longest-waiting reviews, then budget stops", () => {
    const oldFail = task({ state: "failed", error: "old failure", finishedAt: at(1) });
    const newFail = task({ state: "failed", error: "Bad credentials: set GITHUB_TOKEN", finishedAt: at(5) });
    const recentPr = task({ state: "pr-open", ...withPr(10, 9) });
    const oldPr = task({ state: "pr-open", ...withPr(11, 3), step: "draft pull request open" });
    const budgetPr = task({
      state: "pr-open",
      ...withPr(12, 2),
      error: "The agent stopped after spending its budget (AGENT_BUDGET_USD); the work may be incomplete.",
    });
    const dailyWait = task({
      state: "queued",
      step: "waiting: today's agent budget is spent ($20.00 of AGENT_DAILY_BUDGET_USD $20); resumes after midnight UTC",
      updatedAt: at(7),
    });
    const quiet = [task({ state: "working" }), task({ state: "merged", ...withPr(13, 1) }), task({ state: "queued" })];
    const asks = task({ state: "stopped", question: "Formal or casual greeting?", finishedAt: at(8) });

    const items = needsYou([recentPr, dailyWait, oldFail, ...quiet, budgetPr, asks, newFail, oldPr]);

    expect(items.map((i) => [i.kind, i.task.identifier])).toEqual([
      ["question", asks.identifier],
      ["failed", newFail.identifier],
      ["failed", oldFail.identifier],
      ["review", oldPr.identifier],
      ["review", recentPr.identifier],
      ["budget", budgetPr.identifier],
      ["budget", dailyWait.identifier],
    ]);
    expect(items[0]?.reason).toBe("The agent asks: Formal or casual greeting?");
    expect(items[1]?.reason).toBe("Bad credentials: set GITHUB_TOKEN");
    expect(items[3]?.reason).toBe("PR #11 awaits review (draft: checks fail)");
    expect(items[4]?.reason).toBe("PR #10 awaits review");
    expect(items[5]?.reason).toContain("AGENT_BUDGET_USD");
    expect(items[6]?.reason).toContain("today's agent budget is spent");
  });
});

describe("filters", () => {
  it("filters by state and repository, ignoring values it does not know", () => {
    const a = task({ state: "working", repo: { owner: "acme", name: "api" } });
    const b = task({ state: "failed", repo: { owner: "acme", name: "web" } });
    const c = task({ state: "working", repo: { owner: "acme", name: "web" } });
    expect(applyFilter([a, b, c], parseFilter({ state: "working" }))).toEqual([a, c]);
    expect(applyFilter([a, b, c], parseFilter({ repo: "Acme/Web" }))).toEqual([b, c]);
    expect(applyFilter([a, b, c], parseFilter({ state: "working", repo: "acme/web" }))).toEqual([c]);
    expect(parseFilter({ state: "exploded", repo: "not a repo" })).toEqual({ state: null, repo: null });
  });
});
