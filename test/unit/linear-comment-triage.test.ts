// The label path's progress comment once triage, a clarification or a plan is on the task.
import { describe, expect, it } from "vitest";
import { taskStateLabel, triageLine } from "../../src/status/format.js";
import { renderLinearProgress } from "../../src/status/linear-comment.js";
import { newTask, type PlannedSubtask, type SplitPlan, type Task, type Triage } from "../../src/tasks/task.js";

const NOW = new Date("2026-03-02T10:00:00.000Z");
const zero = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

const triage = (p: Partial<Triage> = {}): Triage => ({
  verdict: "ready",
  criteria: ["GET /orders pages with ?cursor=", "The OpenAPI spec documents it"],
  size: "small",
  rationale: "A clear change\nin one route.",
  questions: [],
  model: "claude-haiku-4-5",
  usage: zero,
  costUsd: 0,
  round: 0,
  at: NOW.toISOString(),
  ...p,
});

const sub = (key: string, p: Partial<PlannedSubtask> = {}): PlannedSubtask => ({
  key,
  title: `Part ${key}`,
  brief: "",
  criteria: [],
  owns: [],
  dependsOn: [],
  issueId: `c-${key}`,
  identifier: `ENG-1${key.slice(1)}`,
  ...p,
});

const plan = (p: Partial<SplitPlan> = {}): SplitPlan => ({
  status: "created",
  goal: "",
  interfaces: "",
  subtasks: [sub("s1"), sub("s2"), sub("s3", { dropped: "canceled" })],
  revisions: 0,
  approvalCommentId: "ap",
  proposedAt: NOW.toISOString(),
  approvedBy: null,
  createdAt: null,
  rollupCommentId: null,
  budgetUsd: 10,
  budgetStoppedAt: null,
  manager: { usage: zero, costUsd: 0 },
  answered: [],
  ...p,
});

const task = (p: Partial<Task>): Task => ({
  ...newTask({ issueId: "i1", identifier: "ENG-7", title: "Add pagination", issueUrl: null, now: NOW.toISOString() }),
  ...p,
});
const render = (t: Task) => renderLinearProgress(t, { agentLabel: "agent", now: NOW });

describe("progress comment: triage, questions, plans and parents", () => {
  it("shows the verdict and rationale on one line, and the criteria while the agent works", () => {
    const text = render(task({ state: "working", triage: triage() }));
    expect(text).toContain("- Triage: **ready** (small) — A clear change in one route.");
    expect(text).toContain("**Acceptance criteria:**\n1. GET /orders pages with ?cursor=\n2. The OpenAPI spec documents it");
    // Once the PR is open, the PR body carries the criteria; the comment keeps the verdict only.
    const open = render(task({ state: "pr-open", triage: triage() }));
    expect(open).toContain("Triage: **ready**");
    expect(open).not.toContain("Acceptance criteria");
  });

  it("lists the clarification's questions and how to answer while the task waits for them", () => {
    const text = render(
      task({
        state: "needs-input",
        triage: triage({ verdict: "clarify", criteria: [], questions: ["Which currency?"] }),
        clarification: { questions: ["Which currency?", "Round up or down?"], askedAt: NOW.toISOString(), commentId: "q1", askedOf: "Ada", open: true, answers: [] },
      }),
    );
    expect(text).toContain("**Agent: Waiting for your answer**");
    expect(text).toContain("**Questions before any code for Ada:**\n1. Which currency?\n2. Round up or down?\nReply to the question comment to answer.");
  });

  it("says a proposed plan awaits approval", () => {
    const t = task({ state: "needs-input", triage: triage({ verdict: "split" }), plan: plan({ status: "proposed" }) });
    expect(taskStateLabel(t)).toBe("Plan awaiting your approval");
    const text = render(t);
    expect(text).toContain("**Agent: Plan awaiting your approval**");
    expect(text).toContain("**Plan awaiting approval:** 3 sub-issues. Reply to the plan comment to approve it, or say what to change.");
  });

  it("names a managing parent's sub-issues, a done parent's, and a child's parent", () => {
    const managing = render(task({ state: "managing", plan: plan() }));
    expect(managing).toContain("**Agent: Split into sub-issues, managing them**");
    expect(managing).toContain("- Managing 2 sub-issues: ENG-11, ENG-12 (1 cancelled or removed). The roll-up comment tracks each one.");
    expect(render(task({ state: "done", plan: plan() }))).toContain("- Every sub-issue finished: ENG-11, ENG-12 (1 cancelled or removed).");
    expect(render(task({ state: "working", parent: { issueId: "p", identifier: "ENG-1", key: "s1" } }))).toContain("- Part of ENG-1");
  });

  it("adds nothing for a task triage never saw", () => {
    const text = render(task({ state: "working" }));
    expect(text).not.toMatch(/Triage|criteria|Part of/);
    expect(triageLine({ verdict: "clarify", size: "large", rationale: "" })).toBe("Triage: **clarify** (large)");
  });
});
