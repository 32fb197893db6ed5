import type { Job } from "bullmq";
import type { Deps } from "../src/deps.js";
import type { Lease } from "../src/tasks/locks.js";
import type { TaskContext } from "./job-context.js";
import { holdRepoSlot } from "./leases.js";
import { noteWaiting, waitAndRetry } from "./waiting.js";

/** Once today's spend reaches AGENT_DAILY_BUDGET_USD, agent jobs wait for the next UTC day. */
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

/** AGENT_CONCURRENCY per worker process, whichever queue the agent job came from. */
export async function holdLocalSlot(deps: Deps, p: { job: Job; token: string | undefined }): Promise<Lease> {
  const release = deps.agentSlots.tryAcquire();
  if (!release) return waitAndRetry(p.job, p.token);
  return { release: async () => release() };
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
  const local = await holdLocalSlot(c.deps, p);
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
