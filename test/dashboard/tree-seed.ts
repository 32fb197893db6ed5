// Triage verdicts, plans and a whole tree (parent, sub-issues, a clarification) as task records,
// for the dashboard's unit and browser tests.
import type { PlannedSubtask, SplitPlan, Triage, Usage } from "../../src/tasks/task.js";
import type { TaskStore } from "../../src/tasks/task-store.js";
import { seedTask } from "./seed.js";

export const usage = (input: number, output = 0, cacheRead = 0, cacheWrite = 0): Usage => ({ input, output, cacheRead, cacheWrite });

/** A `ready` verdict with two criteria, unless told otherwise. */
export function triage(p: Partial<Triage> = {}): Triage {
  return {
    verdict: "ready",
    criteria: ["GET /orders pages with ?cursor=", "the OpenAPI spec documents it"],
    size: "small",
    rationale: "A clear, bounded change <in one route>.",
    questions: [],
    model: "claude-haiku-4-5",
    usage: usage(1200, 200),
    costUsd: 0.002,
    round: 0,
    at: "2026-03-02T08:01:00.000Z",
    ...p,
  };
}

/** Planned sub-issue `key`, created in Linear as C-<KEY> (issue id c-<key>). */
export const sub = (key: string, dependsOn: string[] = [], p: Partial<PlannedSubtask> = {}): PlannedSubtask => ({
  key,
  title: `Part ${key}`,
  brief: `Do ${key}`,
  criteria: [],
  owns: [],
  dependsOn,
  issueId: `c-${key}`,
  identifier: `C-${key.toUpperCase()}`,
  ...p,
});

/** A created plan of four sub-issues: s1 and s2 independent, s3 after both, s4 after s3. */
export function plan(p: Partial<SplitPlan> = {}): SplitPlan {
  return {
    status: "created",
    goal: "Ship billing v2",
    interfaces: "",
    subtasks: [sub("s1"), sub("s2"), sub("s3", ["s1", "s2"]), sub("s4", ["s3"])],
    revisions: 0,
    approvalCommentId: null,
    proposedAt: "2026-03-02T08:02:00.000Z",
    approvedBy: "Ada",
    createdAt: "2026-03-02T08:03:00.000Z",
    rollupCommentId: null,
    budgetUsd: 20,
    budgetStoppedAt: null,
    manager: { usage: usage(3000, 800), costUsd: 0.01 },
    answered: [],
    ...p,
  };
}

/** Parent `p` managing four sub-issues (two merged, one working, one failed) and a task waiting on a clarification. */
export async function seedTree(tasks: TaskStore): Promise<void> {
  const parent = (key: string) => ({ issueId: "p", identifier: "P", key });
  const transfer = { tokens: 600, brief: 400, notes: 200 };
  await seedTask(tasks, { id: "p", title: "Billing v2", state: "managing", patch: { plan: plan(), triage: triage({ verdict: "split", size: "large" }), usage: usage(4200, 1000), costUsd: 0.012 } });
  await seedTask(tasks, { id: "c-s2", title: "Part s2", state: "merged", patch: { parent: parent("s2"), transfer, triage: triage(), usage: usage(20_000, 3000), costUsd: 0.3 } }, 52);
  await seedTask(tasks, { id: "c-s1", title: "Part s1", state: "merged", patch: { parent: parent("s1"), transfer, triage: triage(), usage: usage(20_000, 3000), costUsd: 0.3 } }, 51);
  await seedTask(tasks, { id: "c-s3", title: "Part s3", state: "working", patch: { parent: parent("s3"), transfer: { tokens: 1400, brief: 500, notes: 900 }, step: "turn 2: bash", turns: 2, usage: usage(8000, 500) } });
  await seedTask(tasks, { id: "c-s4", title: "Part s4", state: "failed", patch: { parent: parent("s4"), transfer, error: "checks fail: npm test", finishedAt: new Date().toISOString() } });
  await seedTask(tasks, {
    id: "q",
    title: "Refunds for partial orders",
    state: "needs-input",
    patch: {
      triage: triage({ verdict: "clarify", criteria: [], questions: ["Which currency do refunds use?"] }),
      clarification: { questions: ["Which currency do refunds use?"], askedAt: new Date().toISOString(), commentId: "cm", askedOf: "Ada", open: true, answers: [] },
    },
  });
}
