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
