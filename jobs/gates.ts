import type { Job } from "bullmq";
import type { Deps } from "../src/deps.js";
import { entryKey, type Lease, parseEntry } from "../src/tasks/locks.js";
import type { TaskContext } from "./job-context.js";
import { holdRepoSlot } from "./leases.js";
import { lineEntry, noteWaiting, sleepUntilWoken, waitAndRetry, wakeJob } from "./waiting.js";

/**
 * Once today's spend reaches AGENT_DAILY_BUDGET_USD, agent jobs wait for the next UTC day: they
 * wake just after midnight UTC, or within 10 minutes, so a raised budget (a restart with a new
 * setting) lets them start without waiting for the day to end.
 */
export async function checkDailyBudget(c: TaskContext, p: { job: Job; token: string | undefined }): Promise<void> {
  const budget = c.deps.config.agent.dailyBudgetUsd;
  if (budget === undefined) return;
  const spent = await c.deps.spend.day();
  if (spent < budget) return;
  const now = new Date();
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  await noteWaiting(c, `waiting: today's agent budget is spent ($${spent.toFixed(2)} of AGENT_DAILY_BUDGET_USD $${budget}); resumes after midnight UTC`);
  await waitAndRetry(p.job, p.token, Math.min(midnight - now.getTime() + 1000, 10 * 60_000));
}

/**
 * AGENT_CONCURRENCY per worker process, whichever queue the agent job came from. A refused job
 * sleeps in this process's line (its task says why when `c` is given) until a slot is freed here.
 */
export async function holdLocalSlot(deps: Deps, p: { job: Job; token: string | undefined }, c?: TaskContext): Promise<Lease> {
  const key = entryKey(lineEntry(p.job));
  const release = deps.agentSlots.tryAcquire(key);
  if (release) {
    return {
      async release() {
        release();
        await wakeLocalWaiter(deps).catch((err: unknown) => deps.logger.warn({ err }, "could not wake a job waiting for an agent slot"));
      },
    };
  }
  if (c) await noteWaiting(c, `waiting: every agent slot of this worker is busy (AGENT_CONCURRENCY=${deps.agentSlots.size})`);
  return sleepUntilWoken(p.job, p.token, () => deps.agentSlots.asleep(key));
}

/** Wakes the job that waited longest for an agent slot of this process, skipping any gone meanwhile. */
async function wakeLocalWaiter(deps: Deps): Promise<void> {
  for (let next = deps.agentSlots.wakeNext(); next; next = deps.agentSlots.wakeNext()) {
    // One still on its way to sleep wakes itself (LocalSlots.asleep).
    if (!next.asleep || (await wakeJob(deps, parseEntry(next.key), false))) return;
  }
}

/**
 * Everything an agent run must pass before it starts: the daily budget, a slot of this process
 * (AGENT_CONCURRENCY) and a slot of the repository (its maxAgents). One lease releases both.
 */
export async function holdAgentGates(
  c: TaskContext,
  p: { job: Job; token: string | undefined; repo: string; maxAgents: number },
): Promise<Lease> {
  await checkDailyBudget(c, p);
  const local = await holdLocalSlot(c.deps, p, c);
  try {
    const slot = await holdRepoSlot(c, p);
    return {
      async release() {
        await slot.release();
        await local.release();
      },
    };
  } catch (err) {
    await local.release();
    throw err;
  }
}
