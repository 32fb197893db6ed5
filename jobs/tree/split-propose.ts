import type { Job } from "bullmq";
import type { LinearClient } from "@linear/sdk";
import { Pricing } from "../../src/agent/pricing.js";
import { planSplit, type ProposedPlan } from "../../src/agent/split-plan.js";
import { PaidAnswerError } from "../../src/agent/triage-call.js";
import type { TriageInput } from "../../src/agent/triage.js";
import { upsertComment } from "../../src/linear/comments.js";
import { planUuid } from "../../src/linear/sub-issues.js";
import { recordTurn } from "../../src/metrics/cluster-counters.js";
import { renderPlanProposal } from "../../src/status/plan-text.js";
import { addUsage, type SplitPlan, type Task, type Triage, type Usage } from "../../src/tasks/task.js";
import { unrecoverable } from "../failures.js";
import type { ImplementPlan } from "../implement.js";
import type { TaskContext, WorkerDeps } from "../job-context.js";
import type { ImplementJobData } from "../queues.js";
import { queueCreatePlan, queueTick } from "./queue-tree.js";

/**
 * Triage said `split`: the manager (triage's small model) proposes a plan of sub-issues and posts
 * it for approval (a Linear comment on the label path; in a session, the elicitation rendered from
 * the task), leaving the task in `needs-input`; with AGENT_SPLIT_APPROVAL=auto it is created at
 * once. The plan is saved with its cost before it is posted: a failed post fails the job, whose
 * retry posts the saved plan again (the same comment id) without a second planning call.
 * `input` is read only when a planning call is made (a function: gathered then).
 */
export async function proposeSplit(
  c: TaskContext,
  job: Job<ImplementJobData>,
  p: { plan: ImplementPlan; triage: Triage; input: TriageInput | (() => Promise<TriageInput>) },
): Promise<void> {
  const { deps, log } = c;
  if (await resumePlan(c)) return;
  const auto = deps.config.agent.split.approval === "auto";
  await c.save({ step: "planning sub-issues" });
  await c.publish();
  const input = typeof p.input === "function" ? await p.input() : p.input;
  const proposed = await planCall(deps, { input, triage: p.triage, issueId: c.issueId, jobId: String(job.id), signal: c.signal });
  const now = new Date().toISOString();
  const plan = newPlan(deps, proposed, p.triage, { status: auto ? "creating" : "proposed", at: now });
  const booked = { usage: addUsage(c.task().usage, proposed.usage), costUsd: c.task().costUsd + proposed.costUsd };
  if (auto) {
    // The job first: a crash right after it still creates the plan once it is saved (the job waits
    // for it), and a crash before the save re-plans on the retry. Saved first, a crash in between
    // would leave a plan "creating" that nothing creates.
    await queueCreatePlan(deps.queues, c.issueId, plan.proposedAt);
    await c.save({ ...booked, plan, state: "managing", step: null, error: null, question: null });
  } else {
    const commentId = c.task().session ? null : planUuid(c.issueId, p.triage.at, "approval");
    await c.save({ ...booked, plan: { ...plan, approvalCommentId: commentId }, state: "needs-input", step: null, error: null, question: null, finishedAt: now });
    if (commentId) await postPlan(c.linear, { issueId: c.issueId, commentId, plan });
  }
  await c.publish();
  log.info(
    { subtasks: plan.subtasks.map((s) => ({ key: s.key, title: s.title, dependsOn: s.dependsOn })), approval: auto ? "auto" : "ask", usage: proposed.usage, costUsd: proposed.costUsd, repairs: proposed.repairs },
    auto ? "the manager planned sub-issues; creating them (AGENT_SPLIT_APPROVAL=auto)" : "the manager proposed sub-issues; waiting for approval",
  );
}

/**
 * A task that already has a plan (a job retried after the plan was saved, the label added again
 * while it waits) asks again or creates it, without a second planning call: a proposed plan is
 * posted again (the same comment, or the session's elicitation); an approved one gets its job; a
 * created one a tick.
 */
async function resumePlan(c: TaskContext): Promise<boolean> {
  const task = c.task();
  const plan = task.plan;
  if (!plan) return false;
  if (plan.status === "created") {
    await queueTick(c.deps.queues, c.issueId, "split asked again for a created plan");
    return true;
  }
  if (plan.status === "creating") {
    await queueCreatePlan(c.deps.queues, c.issueId, plan.proposedAt);
    await c.save({ state: "managing", step: null, error: null });
  } else {
    if (!inSession(task) && plan.approvalCommentId) await postPlan(c.linear, { issueId: c.issueId, commentId: plan.approvalCommentId, plan });
    await c.save({ state: "needs-input", step: null, error: null, question: null, finishedAt: new Date().toISOString() });
  }
  await c.publish();
  c.log.info({ plan: plan.status }, "the task already has a plan; asked again or queued its creation, with no new planning call");
  return true;
}

/**
 * One planning call of the manager (triage's model), booked to the day's spend (and the job's,
 * given one) and the cluster's counters; the caller adds it to the task with the plan. A call
 * whose answer cannot be used (refused, no readable sub-issue) is booked to the task here too and
 * fails for good: a retry would most likely pay for the same answer again.
 */
export async function planCall(
  deps: WorkerDeps,
  p: { input: TriageInput; triage: Triage; issueId: string; revise?: { previous: Pick<SplitPlan, "goal" | "interfaces" | "subtasks">; changes: string }; jobId?: string; signal?: AbortSignal },
): Promise<ProposedPlan> {
  const { config } = deps;
  const book = async (paid: { usage: Usage; costUsd: number }) => {
    await deps.spend.add(paid.costUsd, new Date(), p.jobId);
    await recordTurn(deps.workerRedis, config.redisPrefix, paid.usage, paid.costUsd);
  };
  let proposed: ProposedPlan;
  try {
    proposed = await planSplit({
      anthropic: deps.clients.anthropic,
      model: config.agent.triage.model,
      pricing: new Pricing(config.agent.modelPrices),
      input: p.input,
      triage: p.triage,
      maxSubtasks: config.agent.split.maxSubtasks,
      ...(p.revise ? { revise: p.revise } : {}),
      ...(p.signal ? { signal: p.signal } : {}),
    });
  } catch (err) {
    if (!(err instanceof PaidAnswerError)) throw err;
    await book(err);
    await deps.tasks.update(p.issueId, (t) => ({ usage: addUsage(t.usage, err.usage), costUsd: t.costUsd + err.costUsd }));
    throw unrecoverable(
      p.revise
        ? `The manager could not revise the plan of ${p.input.issue.identifier} with the requested changes (${err.message}). Approve the plan as proposed, or remove the agent's label and split the issue by hand.`
        : `The manager could not plan the sub-issues of ${p.input.issue.identifier} (${err.message}). ` +
            `Split the issue into sub-issues by hand, or add the \`${config.agent.triage.goLabel}\` label to have one agent do it whole, then add the agent's label again.`,
      err,
    );
  }
  await book(proposed);
  return proposed;
}

/** The tree's budget: AGENT_TREE_BUDGET_USD, else AGENT_BUDGET_USD per sub-issue. */
export function treeBudget(deps: Pick<WorkerDeps, "config">, subtasks: number): number {
  const { split, budgetUsd } = deps.config.agent;
  return split.treeBudgetUsd ?? budgetUsd * subtasks;
}

/** The parent's plan record for a fresh proposal; the manager's spend so far is triage's and this call's. */
function newPlan(deps: WorkerDeps, proposed: ProposedPlan, triage: Triage, p: { status: SplitPlan["status"]; at: string }): SplitPlan {
  return {
    status: p.status,
    goal: proposed.goal,
    interfaces: proposed.interfaces,
    subtasks: proposed.subtasks.map((s) => ({ ...s, issueId: null, identifier: null })),
    revisions: 0,
    approvalCommentId: null,
    proposedAt: p.at,
    approvedBy: null,
    createdAt: null,
    rollupCommentId: null,
    budgetUsd: treeBudget(deps, proposed.subtasks.length),
    budgetStoppedAt: null,
    manager: { usage: addUsage(triage.usage, proposed.usage), costUsd: triage.costUsd + proposed.costUsd },
    answered: [],
  };
}

/** Writes the proposal (or its revision) into the comment that asks for approval, created once under `commentId`. */
export async function postPlan(linear: LinearClient, p: { issueId: string; commentId: string; plan: Pick<SplitPlan, "goal" | "interfaces" | "subtasks" | "revisions"> }): Promise<void> {
  await upsertComment(linear, { issueId: p.issueId, commentId: p.commentId, body: `🤖 ${renderPlanProposal(p.plan)}` });
}

/** Whether the task shows its plan in an agent session (the elicitation) rather than in a comment. */
export function inSession(task: Pick<Task, "session">): boolean {
  return Boolean(task.session);
}
