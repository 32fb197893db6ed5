import { describe, expect, it } from "vitest";
import { contextNote, turnClock, turnInProgress, turnsCell } from "../../src/dashboard/agent-activity.js";
import type { Task } from "../../src/tasks/task.js";

const NOW = Date.parse("2026-12-03T12:00:00Z");
const task = (patch: Partial<Task>): Task =>
  ({ issueId: "i", state: "working", turns: 4, usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }, ...patch }) as Task;

describe("dashboard: agent activity", () => {
  it("formats a turn's running time to the second", () => {
    expect(turnClock(0)).toBe("0s");
    expect(turnClock(59_999)).toBe("59s");
    expect(turnClock(187_000)).toBe("3m 07s");
    expect(turnClock(3_720_000)).toBe("1h 02m");
    expect(turnClock(-5)).toBe("0s");
  });

  it("shows a model turn in progress only for a working or revising task with a call in flight", () => {
    const started = new Date(NOW - 42_000).toISOString();
    expect(turnInProgress(task({ turnStartedAt: started }), NOW)).toBe(
      `<div class="turn-live" data-turn-elapsed="42000" title="model call started ${started}">model turn in progress · <span class="ticker">42s</span></div>`,
    );
    expect(turnInProgress(task({ state: "revising", turnStartedAt: started }), NOW)).toContain("42s");
    expect(turnInProgress(task({ turnStartedAt: null }), NOW)).toBe("");
    expect(turnInProgress(task({}), NOW)).toBe("");
    expect(turnInProgress(task({ state: "pr-open", turnStartedAt: started }), NOW)).toBe("");
    expect(turnInProgress(task({ turnStartedAt: "not a time" }), NOW)).toBe("");
  });

  it("counts compactions and clearings by the turns, only when there were any", () => {
    expect(contextNote({ context: { clearings: 3, compactions: 0, clearedTokens: 9000 } })).toBe("3 clearings");
    expect(contextNote({ context: { clearings: 1, compactions: 2, clearedTokens: 100 } })).toBe("2 compactions · 1 clearing");
    expect(contextNote({ context: { clearings: 0, compactions: 0, clearedTokens: 0 } })).toBe("");
    expect(contextNote({ context: null })).toBe("");
    expect(contextNote({})).toBe("");
    expect(turnsCell(task({}))).toBe('<td class="num">4</td>');
    expect(turnsCell(task({ context: { clearings: 0, compactions: 1, clearedTokens: 0 } }))).toBe(
      '<td class="num" title="context kept under its threshold: 1 compaction">4<div class="ctx" data-context>1 compaction</div></td>',
    );
  });
});
