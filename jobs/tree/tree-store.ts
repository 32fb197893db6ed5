import { createHash, randomBytes } from "node:crypto";
import type { SplitPlan, Task } from "../../src/tasks/task.js";
import type { WorkerDeps } from "../job-context.js";

// The manager's own small Redis records beside the task records: a per-parent lock so two ticks
// of one parent never interleave, the sub-issues Linear showed completed (a human closed them),
// and the digest of the roll-up last written (the comment is edited only when its text changes).

type Deps = Pick<WorkerDeps, "redis" | "config">;

const key = (deps: Deps, what: string, parentIssueId: string) => `${deps.config.redisPrefix}:tree-${what}:${parentIssueId}`;

const UNLOCK = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

/**
 * Runs `fn` holding the parent's tree lock: a Linear-caused tick and a child-caused tick (queued
 * under different ids) take turns instead of racing over the roll-up. Throws (the tick retries)
 * when another holder keeps it past `waitMs`.
 */
export async function withTreeLock<T>(deps: Deps, parentIssueId: string, fn: () => Promise<T>, waitMs = 20_000): Promise<T> {
  const lock = key(deps, "lock", parentIssueId);
  const token = randomBytes(8).toString("hex");
  const deadline = Date.now() + waitMs;
  while ((await deps.redis.set(lock, token, "PX", 120_000, "NX")) !== "OK") {
    if (Date.now() > deadline) throw new Error(`another tick of ${parentIssueId} holds its tree lock; retrying later`);
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    return await fn();
  } finally {
    await deps.redis.eval(UNLOCK, 1, lock, token).catch(() => undefined);
  }
}

/** Sub-issues Linear last showed completed (read by every tick; written by the ticks that read Linear). */
export async function completedInLinear(deps: Deps, parentIssueId: string): Promise<Set<string>> {
  return new Set(await deps.redis.smembers(key(deps, "completed", parentIssueId)));
}

/** Records which sub-issues Linear shows completed now. */
export async function recordCompleted(deps: Deps, parentIssueId: string, ids: string[]): Promise<void> {
  const k = key(deps, "completed", parentIssueId);
  const multi = deps.redis.multi().del(k);
  if (ids.length > 0) multi.sadd(k, ...ids).expire(k, 90 * 86_400);
  await multi.exec();
}

/** Sub-issues a human added under the parent without the agent label: theirs, never started by the manager. */
export async function humanOwned(deps: Deps, parentIssueId: string): Promise<Set<string>> {
  return new Set(await deps.redis.smembers(key(deps, "human", parentIssueId)));
}

/** Records which added sub-issues Linear shows without the agent label now. */
export async function recordHuman(deps: Deps, parentIssueId: string, ids: string[]): Promise<void> {
  const k = key(deps, "human", parentIssueId);
  const multi = deps.redis.multi().del(k);
  if (ids.length > 0) multi.sadd(k, ...ids).expire(k, 90 * 86_400);
  await multi.exec();
}

/** Whether the parent's Linear issue was seen (or moved) started or completed: no need to read it again. */
export async function parentStarted(deps: Deps, parentIssueId: string): Promise<boolean> {
  return (await deps.redis.exists(key(deps, "started", parentIssueId))) === 1;
}

/** Remembers that the parent's Linear issue is started (or further). */
export async function markParentStarted(deps: Deps, parentIssueId: string): Promise<void> {
  await deps.redis.set(key(deps, "started", parentIssueId), "1", "EX", 90 * 86_400);
}

/**
 * A sub-issue whose job ended to wait for the tree (its blockers to merge, or the tree budget, as
 * awaitBlockers leaves it): not stuck, the tick starts it when its turn comes.
 */
export function waitsOnTree(task: Pick<Task, "parent" | "step">): boolean {
  if (!task.parent) return false;
  const step = task.step ?? "";
  return step.startsWith("waiting for ") || step.startsWith("not started: the tree budget");
}

/** Whether `body` differs from the roll-up last written for the parent. */
export async function rollupChanged(deps: Deps, parentIssueId: string, body: string): Promise<boolean> {
  return (await deps.redis.get(key(deps, "rollup", parentIssueId))) !== digest(body);
}

/** Remembers the roll-up just written. */
export async function rollupWritten(deps: Deps, parentIssueId: string, body: string): Promise<void> {
  await deps.redis.set(key(deps, "rollup", parentIssueId), digest(body), "EX", 90 * 86_400);
}

/** Patches the parent's plan from its current record (compare-and-set: nothing else is lost). */
export async function patchPlan(deps: Pick<WorkerDeps, "tasks">, parentIssueId: string, patch: (plan: SplitPlan) => Partial<SplitPlan>): Promise<Task> {
  return deps.tasks.update(parentIssueId, (t) => (t.plan ? { plan: { ...t.plan, ...patch(t.plan) } } : {}));
}

function digest(body: string): string {
  return createHash("sha256").update(body).digest("hex");
}
