import { describe, expect, it } from "vitest";
import { costLine, renderPrBody } from "../../src/status/pr-body.js";
import type { Task } from "../../src/tasks/task.js";

const task = (patch: Partial<Task> = {}): Task =>
  ({
    issueId: "i1",
    identifier: "ENG-7",
    title: "Add pagination",
    issueUrl: "https://linear.app/acme/issue/ENG-7",
    turns: 12,
    usage: { input: 45_100, output: 3_200, cacheRead: 120_400, cacheWrite: 8_000 },
    costUsd: 0.42,
    checks: { command: "npm test", passed: true, summary: "ok" },
    ...patch,
  }) as Task;

const body = (t: Task) =>
  renderPrBody(t, { summary: "Done.", model: "claude-sonnet-5-5", agentHandle: "@agent", limitNote: null, checksOutput: null });

describe("PR body: cost line", () => {
  it("is turns, tokens and dollars with the model when the context was never compacted", () => {
    expect(body(task())).toContain(
      "## Cost\n12 turns · 45.1k in · 3.2k out · 120.4k cache read · 8.0k cache write · $0.42 (claude-sonnet-5-5)",
    );
    expect(costLine(task({ context: { clearings: 3, compactions: 0, clearedTokens: 20_000 } }))).not.toMatch(/compact/);
    expect(costLine(task({ context: null }))).not.toMatch(/compact/);
  });

  it("says how often the context was compacted, and how much of the output was thinking", () => {
    expect(costLine(task({ context: { clearings: 4, compactions: 1, clearedTokens: 60_000 } }))).toBe(
      "12 turns · 45.1k in · 3.2k out · 120.4k cache read · 8.0k cache write · $0.42 · context compacted once",
    );
    const t = task({
      usage: { input: 45_100, output: 3_200, cacheRead: 120_400, cacheWrite: 8_000, thinking: 1_900 },
      context: { clearings: 0, compactions: 3, clearedTokens: 0 },
    });
    expect(body(t)).toContain(
      "## Cost\n12 turns · 45.1k in · 3.2k out · 120.4k cache read · 8.0k cache write · $0.42 · 1.9k of the output thinking · context compacted 3 times (claude-sonnet-5-5)",
    );
  });
});
