// Puts tasks into given states through the real TaskStore, moving only along legal transitions.
import type { Task, TaskState } from "../../src/tasks/task.js";
import type { TaskStore } from "../../src/tasks/task-store.js";

export interface SeedSpec {
  id: string;
  title?: string;
  state: TaskState;
  repo?: string;
  patch?: Partial<Task>;
}

/** The path from `queued` to each state. */
const PATH: Record<TaskState, TaskState[]> = {
  queued: [],
  "needs-input": ["working", "needs-input"],
  managing: ["working", "managing"],
  done: ["working", "managing", "done"],
  working: ["working"],
  checking: ["working", "checking"],
  "pr-open": ["working", "pr-open"],
  revising: ["working", "pr-open", "revising"],
  merged: ["working", "pr-open", "merged"],
  closed: ["working", "pr-open", "closed"],
  failed: ["working", "failed"],
  stopped: ["stopped"],
};

const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

/** Creates (or reuses) the task `spec.id` and walks it to `spec.state`, then applies `spec.patch`. */
export async function seedTask(tasks: TaskStore, spec: SeedSpec, prNumber = 1): Promise<Task> {
  const [owner = "acme", name = "widgets"] = (spec.repo ?? "acme/widgets").split("/");
  await tasks.ensure({
    issueId: spec.id,
    identifier: spec.id.toUpperCase(),
    title: spec.title ?? `Task ${spec.id}`,
    issueUrl: `https://linear.app/acme/issue/${spec.id.toUpperCase()}`,
  });
  // Labelled an hour ago, so label → PR times come out as in real life.
  let task = await tasks.update(spec.id, () => ({ repo: { owner, name }, branch: `agent/${spec.id}`, createdAt: ago(60) }));
  for (const state of PATH[spec.state]) {
    const pr: Partial<Task> =
      state === "pr-open"
        ? {
            prNumber,
            prUrl: `https://github.com/${owner}/${name}/pull/${prNumber}`,
            prOpenedAt: ago(20),
            finishedAt: ago(20),
          }
        : {};
    task = await tasks.update(spec.id, () => ({ state, startedAt: ago(45), ...pr }));
  }
  return spec.patch ? tasks.update(spec.id, () => spec.patch as Partial<Task>) : task;
}

/** One task in each state a person cares about, as the routes and browser tests use them. */
export async function seedWorkforce(tasks: TaskStore): Promise<void> {
  await seedTask(tasks, {
    id: "eng-1",
    title: "Queue waits behind the repository limit",
    state: "queued",
    patch: { step: "waiting: acme/widgets already has 2 agents at work (its limit); position 2 in line" },
  });
  await seedTask(tasks, {
    id: "eng-2",
    title: "Add pagination to the orders endpoint",
    state: "working",
    patch: {
      step: "turn 7: bash, str_replace_based_edit_tool",
      turns: 7,
      usage: { input: 12_000, output: 3_400, cacheRead: 88_000, cacheWrite: 9_000, thinking: 1_200 },
      costUsd: 0.37,
      // Its eighth model call started 90 seconds ago; its context was trimmed three times so far.
      turnStartedAt: new Date(Date.now() - 90_000).toISOString(),
      context: { clearings: 2, compactions: 1, clearedTokens: 48_000 },
    },
  });
  await seedTask(
    tasks,
    {
      id: "eng-3",
      title: "Fix the flaky login test",
      state: "pr-open",
      repo: "acme/web",
      patch: {
        turns: 12,
        costUsd: 0.82,
        usage: { input: 15_000, output: 4_100, cacheRead: 140_000, cacheWrite: 11_000 },
        checks: { command: "npm test", passed: true, summary: "ok" },
      },
    },
    41,
  );
  await seedTask(tasks, {
    id: "eng-4",
    title: "<script>alert(1)</script> in the title",
    state: "failed",
    patch: { error: "Bad credentials: GITHUB_TOKEN was refused <b>401</b>", finishedAt: new Date().toISOString(), costUsd: 0.05 },
  });
  await seedTask(
    tasks,
    {
      id: "eng-5",
      title: "Rename the config loader",
      state: "merged",
      patch: { turns: 9, revisions: 1, costUsd: 0.6, usage: { input: 9_000, output: 2_000, cacheRead: 50_000, cacheWrite: 6_000 } },
    },
    40,
  );
}

const MANY_STATES: TaskState[] = ["working", "pr-open", "merged", "queued", "checking", "failed", "revising", "closed"];

/** `n` tasks "bulk-<i>" over four repositories, in a mix of states, written in parallel batches. */
export async function seedMany(tasks: TaskStore, n: number, batch = 50): Promise<void> {
  for (let start = 0; start < n; start += batch) {
    const ids = Array.from({ length: Math.min(batch, n - start) }, (_, k) => start + k);
    await Promise.all(
      ids.map((i) =>
        seedTask(tasks, { id: `bulk-${i}`, title: `Bulk task ${i}`, state: MANY_STATES[i % MANY_STATES.length] as TaskState, repo: `acme/repo-${i % 4}` }, 1000 + i),
      ),
    );
  }
}
