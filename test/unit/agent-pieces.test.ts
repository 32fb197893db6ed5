import { describe, expect, it } from "vitest";
import { withCacheBreakpoints } from "../../src/agent/cache-breakpoints.js";
import { costOf, ratesFor } from "../../src/agent/pricing.js";
import { canTransition } from "../../src/tasks/task.js";

describe("pricing", () => {
  it("prices every kind of token at the model's rate", () => {
    // Sonnet 4.6: $3 in, $15 out, $3.75 cache write, $0.30 cache read per million.
    const cost = costOf("claude-sonnet-4-6", {
      input: 1_000_000,
      output: 1_000_000,
      cacheWrite: 1_000_000,
      cacheRead: 1_000_000,
    });
    expect(cost).toBeCloseTo(3 + 15 + 3.75 + 0.3, 10);
    expect(
      costOf("claude-opus-4-7", { input: 2_000, output: 1_000, cacheWrite: 0, cacheRead: 10_000 }),
    ).toBeCloseTo((2_000 * 5 + 1_000 * 25 + 10_000 * 0.5) / 1e6, 12);
    expect(ratesFor("claude-haiku-4-5-20251001").rates.input).toBe(1);
    expect(ratesFor("claude-opus-4-1").rates.output).toBe(75);
    expect(ratesFor("some-future-model")).toMatchObject({ known: false });
  });
});

describe("withCacheBreakpoints", () => {
  it("marks the issue and the newest block, and drops older rolling marks", () => {
    const marked = withCacheBreakpoints([
      { role: "user", content: [{ type: "text", text: "issue" }] },
      { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "bash", input: {} }] },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "t1", content: "ok", cache_control: { type: "ephemeral" } },
        ],
      },
      { role: "assistant", content: [{ type: "tool_use", id: "t2", name: "bash", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "t2", content: "ok" }] },
    ]);
    const marks = marked.flatMap((m, i) =>
      (m.content as Array<{ cache_control?: unknown }>).flatMap((b, j) =>
        b.cache_control ? [`${i}.${j}`] : [],
      ),
    );
    expect(marks).toEqual(["0.0", "4.0"]);
  });
});

describe("task state machine", () => {
  it("allows the documented moves and refuses leaving merged", () => {
    expect(canTransition("queued", "working")).toBe(true);
    expect(canTransition("working", "pr-open")).toBe(true);
    expect(canTransition("pr-open", "revising")).toBe(true);
    expect(canTransition("failed", "working")).toBe(true);
    expect(canTransition("merged", "working")).toBe(false);
    expect(canTransition("queued", "merged")).toBe(false);
  });
});

describe("progress edit budget", () => {
  it("allows a burst up to the per-minute budget, then makes edits wait", async () => {
    const { EditBudget, throttle } = await import("../../src/status/publish.js");
    const budget = new EditBudget(3);
    expect([budget.tryTake(), budget.tryTake(), budget.tryTake(), budget.tryTake()]).toEqual([true, true, true, false]);
    let calls = 0;
    const t = throttle(0, async () => void calls++, new EditBudget(1));
    t.poke();
    t.poke();
    t.poke();
    await t.flush();
    // One live edit from the budget, and the pending one on flush.
    expect(calls).toBe(2);
  });
});
