// A split parent in its Linear agent session: its plan shows the sub-issues' progress while they
// run, and the session ends with one response summarising them once every one finished.
import { describe, expect, it } from "vitest";
import { renderSession } from "../../src/status/linear-session.js";
import { childPhase, type RollupChild } from "../../src/status/rollup.js";
import { newTask, type Task } from "../../src/tasks/task.js";
import { plan, sub, usage } from "../dashboard/tree-seed.js";

const NOW = "2026-03-02T09:00:00.000Z";

function task(id: string, p: Partial<Task> = {}): Task {
  const base = newTask({ issueId: id, identifier: id.toUpperCase(), title: `Task ${id}`, issueUrl: null, now: NOW });
  return { ...base, repo: { owner: "acme", name: "widgets" }, session: { id: "sess-1" } as Task["session"], ...p };
}

const parent = (p: Partial<Task> = {}) => task("p", { state: "managing", plan: plan({ manager: { usage: usage(3000, 800), costUsd: 0.1 } }), ...p });
const childTask = (key: string, p: Partial<Task> = {}) => task(`c-${key}`, { parent: { issueId: "p", identifier: "P", key }, ...p });

function children(p: Task, tasks: Record<string, Partial<Task> | null>): RollupChild[] {
  return (p.plan?.subtasks ?? []).map((s) => {
    const t = tasks[s.key] ? childTask(s.key, tasks[s.key] as Partial<Task>) : null;
    return { sub: s, task: t, phase: childPhase(s, t) };
  });
}

describe("a managing parent's session", () => {
  it("shows 'Sub-issues: n of m finished' in progress, from the tick's step, and never the agent's Implement step", () => {
    const p = parent({ step: "sub-issues: 2 of 4 finished; running C-S3" });
    const view = renderSession(p);
    expect(view.plan.map((s) => [s.content, s.status])).toEqual([
      ["Route to a repository: acme/widgets", "completed"],
      ["Plan the sub-issues: 4 created in Linear", "completed"],
      ["Sub-issues: 2 of 4 finished; running C-S3", "inProgress"],
    ]);
    expect(view.ended).toBeNull();
    expect(view.thought?.content).toEqual({ type: "thought", body: "Sub-issues: 2 of 4 finished; running C-S3." });
  });

  it("counts from the children as the roll-up does when the step does not say (merged and dropped finish, closed needs you)", () => {
    const p = parent({ step: null, plan: plan({ subtasks: [sub("s1"), sub("s2"), sub("s3", [], { dropped: "canceled" }), sub("s4")] }) });
    const kids = children(p, { s1: { state: "merged" }, s2: { state: "closed" }, s3: { state: "stopped" }, s4: null });
    expect(renderSession(p, kids).plan[2]).toEqual({ content: "Sub-issues: 2 of 4 finished; needs you: C-S2 closed", status: "inProgress" });
    // From the plan alone (no children read), only the dropped ones are known to be finished.
    expect(renderSession(p).plan[2]?.content).toBe("Sub-issues: 1 of 4 finished");
    const stuck = parent({ step: "needs you: C-S2 failed" });
    expect(renderSession(stuck).plan[2]?.content).toBe("Sub-issues: 0 of 4 finished; needs you: C-S2 failed");
  });

  it("shows the plan's creation in progress while the approved sub-issues are being created", () => {
    const view = renderSession(parent({ plan: plan({ status: "creating" }) }));
    expect(view.plan.map((s) => s.status)).toEqual(["completed", "inProgress", "pending"]);
    expect(view.plan[1]?.content).toBe("Create the 4 planned sub-issues in Linear");
  });
});

describe("a done parent's session", () => {
  const done = parent({ state: "done", step: null, finishedAt: "2026-03-02T10:00:00.000Z", plan: plan({ manager: { usage: usage(3000, 800), costUsd: 0.1 }, subtasks: [sub("s1"), sub("s2"), sub("s3", [], { dropped: "removed" }), sub("s4")] }) });

  it("ends with one response listing every sub-issue with its PR, and the roll-up's total cost", () => {
    const pr = (n: number) => ({ state: "merged" as const, prNumber: n, prUrl: `https://github.com/acme/widgets/pull/${n}`, costUsd: 0.5 });
    // s4 is not merged: the tick completed the parent, so a human completed it in Linear.
    const kids = children(done, { s1: pr(11), s2: pr(12), s3: null, s4: { state: "working", costUsd: 0.25 } });
    const view = renderSession(done, kids);
    expect(view.plan.every((s) => s.status === "completed")).toBe(true);
    expect(view.plan[2]?.content).toBe("Sub-issues: all 4 finished");
    expect(view.thought).toBeNull();
    expect(view.ended).toEqual({
      key: "ended:done:2026-03-02T10:00:00.000Z",
      content: {
        type: "response",
        body:
          "All 4 sub-issues finished: C-S1 ([PR #11](https://github.com/acme/widgets/pull/11)), C-S2 ([PR #12](https://github.com/acme/widgets/pull/12)), " +
          "C-S3 (dropped: removed in Linear), C-S4 (completed in Linear); total cost $1.35 (manager $0.10, sub-issues $1.25).",
      },
    });
  });

  it("renders the summary from the plan alone when the children were not read", () => {
    const content = renderSession(done).ended?.content;
    const body = content && "body" in content ? content.body : "";
    expect(body).toBe("All 4 sub-issues finished: C-S1 (merged), C-S2 (merged), C-S3 (dropped: removed in Linear), C-S4 (merged); manager cost $0.10; the roll-up comment lists each sub-issue's cost.");
  });

  it("a stopped parent ends with its stop reason once, and cancels the steps not completed", () => {
    const shown = JSON.stringify(renderSession(parent({ step: "sub-issues: 1 of 4 finished" })).plan);
    const error = "Stopped because its label was removed; its unfinished sub-issues (C-S2) were stopped too. Label the issue again to resume managing its sub-issues.";
    const stopped = parent({ state: "stopped", step: null, error, finishedAt: "2026-03-02T10:00:00.000Z", sessionShown: { sessionId: "sess-1", plan: shown } });
    const view = renderSession(stopped);
    expect(view.plan.map((s) => s.status)).toEqual(["completed", "completed", "canceled"]);
    expect(view.ended?.content).toEqual({ type: "response", body: error });
  });
});
