import { describe, expect, it } from "vitest";
import { withCacheBreakpoints } from "../../src/agent/cache-breakpoints.js";
import { canTransition } from "../../src/tasks/task.js";

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

describe("progress edits over a long run", () => {
  it("double their interval after every few edits, up to a ceiling", async () => {
    const { throttle } = await import("../../src/status/publish.js");
    let clock = 0;
    const at: number[] = [];
    const t = throttle(15_000, async () => void at.push(clock), undefined, { doubleEvery: 4, maxMs: 300_000, now: () => clock });
    // A turn every 5 s for an hour.
    for (clock = 1; clock <= 60 * 60_000; clock += 5_000) {
      t.poke();
      // The edit runs after the previous one settles: let it, before the clock moves on.
      await new Promise((r) => setImmediate(r));
    }
    await t.flush();
    const gaps = at.slice(1).map((a, i) => a - (at[i] ?? 0));
    expect(gaps.slice(0, 3)).toEqual([15_000, 15_000, 15_000]);
    expect(gaps.slice(3, 7)).toEqual([30_000, 30_000, 30_000, 30_000]);
    expect(Math.max(...gaps)).toBe(300_000);
    // The first 30 minutes: about 20 edits, not the 120 a fixed 15 s interval would make.
    const firstHalfHour = at.filter((a) => a <= 30 * 60_000).length;
    expect(firstHalfHour).toBeGreaterThanOrEqual(18);
    expect(firstHalfHour).toBeLessThanOrEqual(22);
    expect(at.length).toBeLessThanOrEqual(30);
  });
});
