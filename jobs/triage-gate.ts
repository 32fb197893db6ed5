import type { Job } from "bullmq";
import { Pricing } from "../src/agent/pricing.js";
import { type TriageInput, triageIssue } from "../src/agent/triage.js";
import { getRepository } from "../src/github/repos.js";
import type { IssueContext } from "../src/linear/issues.js";
import { recordTurn } from "../src/metrics/cluster-counters.js";
import { TRIAGED_STEP } from "../src/status/clarify-text.js";
import { addUsage, type HumanAnswer, type Task, type Triage } from "../src/tasks/task.js";
import { repoOutline } from "../src/workspace/repo-outline.js";
import { askClarification } from "./clarify.js";
import type { ImplementPlan } from "./implement.js";
import type { TaskContext } from "./job-context.js";
import type { ImplementJobData } from "./queues.js";
import { queueTick } from "./tree/queue-tree.js";
import { proposeSplit } from "./tree/split-propose.js";

/** What triage adds to a run that goes ahead: criteria to check against, answers to questions asked. */
export interface GoAhead {
  criteria: string[];
  answers: HumanAnswer[];
}

/**
 * Triage before the first run of a task: `ready` goes ahead with criteria; `clarify` asks the
 * humans and ends the job (no slot held); `split` hands the issue to the manager. Each verdict is
 * recorded on the task with its tokens and cost, so a retried job never pays for it twice.
 */
export async function triageGate(c: TaskContext, job: Job<ImplementJobData>, plan: ImplementPlan): Promise<GoAhead | { done: true }> {
  const task = c.task();
  // A parent's work is its children's: the manager's tick moves the tree on, no agent runs here.
  // A plan not yet created (a job that died after saving it, a re-label while it waits for
  // approval): the manager asks again or queues its creation, without a second planning call.
  if (task.plan && task.plan.status !== "created" && task.triage) {
    await proposeSplit(c, job, { plan, triage: task.triage, input: () => triageInput(c, plan, task.clarification?.answers ?? [], true) });
    return { done: true };
  }
  if (task.plan) {
    // The job marked the task working; a parent is managed, never worked on (a re-labelled
    // stopped or finished parent resumes its tree here).
    await c.save({ state: "managing", step: null, error: null, finishedAt: null });
    await queueTick(c.deps.queues, task.issueId, `implement job ${String(job.id)} on a parent`);
    c.log.info({ plan: task.plan.status }, "the issue is split into sub-issues; the manager moves it on, no agent runs for the parent");
    return { done: true };
  }
  const answers = task.clarification?.answers ?? [];
  const skip = skipReason(c, plan.issue, task);
  if (skip) {
    c.log.info({ reason: skip }, "triage skipped");
    return { criteria: task.triage?.verdict === "ready" ? task.triage.criteria : [], answers };
  }
  // Round 1 is the one re-triage after the humans answered; a verdict already recorded for this
  // round (a retried job) is acted on again without a second model call, nor reading the
  // repository for one: the input is gathered only when a model call needs it.
  const round = answers.length > 0 ? 1 : 0;
  // One level deep: our own sub-issues, and an issue that already has a parent, are never split.
  const allowSplit = !task.parent && !plan.issue.parent;
  let gathered: Promise<TriageInput> | undefined;
  const input = () => (gathered ??= triageInput(c, plan, answers, allowSplit));
  const recorded = task.triage && task.triage.round >= round ? task.triage : null;
  const triage = recorded ?? (await runTriage(c, job, await input(), round));
  return act(c, job, { plan, triage, answers, allowSplit, input });
}

/** Why this run needs no triage, or null. */
function skipReason(c: TaskContext, issue: IssueContext, task: Task): string | null {
  const { triage } = c.deps.config.agent;
  if (!triage.enabled) return "AGENT_TRIAGE is off";
  const go = triage.goLabel.toLowerCase();
  if (issue.labelNames.some((l) => l.toLowerCase() === go)) return `the issue carries the \`${triage.goLabel}\` label`;
  if (task.triage?.verdict === "ready") return `triage already said ready (round ${task.triage.round}); this is a later attempt`;
  return null;
}

/** What triage reads: the issue with its comments, the answers so far, the repository's outline. */
async function triageInput(c: TaskContext, plan: ImplementPlan, answers: HumanAnswer[], allowSplit: boolean): Promise<TriageInput> {
  const { deps, signal } = c;
  const { repo } = plan;
  const ref = { owner: repo.owner, repo: repo.name };
  const remote = await getRepository(await deps.clients.github.forRepo(ref, { signal }), { ...ref, signal });
  const outline = await repoOutline(deps.workspace, {
    repo: { owner: repo.owner, name: repo.name },
    cloneUrl: remote.cloneUrl,
    baseBranch: repo.baseBranch ?? remote.defaultBranch,
    token: await deps.clients.github.gitToken(ref, { signal }),
    signal,
  });
  return { issue: plan.issue, files: outline.files, conventions: outline.conventions, answers, allowSplit, maxSubtasks: deps.config.agent.split.maxSubtasks };
}

/** One triage call: booked to the job, the day and the task, recorded on the task and shown. */
async function runTriage(c: TaskContext, job: Job<ImplementJobData>, input: TriageInput, round: number): Promise<Triage> {
  const { deps, log } = c;
  const { config } = deps;
  await c.save({ step: round > 0 ? "triaging the issue again with your answers" : "triaging the issue" });
  await c.publish();
  const result = await triageIssue({
    anthropic: deps.clients.anthropic,
    model: config.agent.triage.model,
    pricing: new Pricing(config.agent.modelPrices),
    input,
    signal: c.signal,
  });
  const triage: Triage = {
    verdict: result.verdict,
    criteria: result.criteria,
    size: result.size,
    rationale: result.rationale,
    questions: result.questions,
    model: result.model,
    usage: result.usage,
    costUsd: result.costUsd,
    round,
    at: new Date().toISOString(),
  };
  await deps.spend.add(triage.costUsd, new Date(), String(job.id));
  await recordTurn(deps.workerRedis, config.redisPrefix, triage.usage, triage.costUsd);
  await deps.tasks.update(c.issueId, (t) => ({ triage, usage: addUsage(t.usage, triage.usage), costUsd: t.costUsd + triage.costUsd }));
  await c.save({ step: TRIAGED_STEP });
  await c.publish();
  if (result.noVerdict) log.warn({ reason: result.noVerdict, costUsd: triage.costUsd }, "triage gave no verdict; going ahead as ready with no acceptance criteria");
  const repairs = result.repairs;
  log.info(
    { verdict: triage.verdict, size: triage.size, criteria: triage.criteria, questions: triage.questions, round, model: triage.model, usage: triage.usage, costUsd: triage.costUsd, ...(repairs?.length ? { repairs } : {}) },
    `triage: ${triage.verdict}`,
  );
  return triage;
}

/** Acts on the verdict: go ahead, ask, or hand the issue to the manager. */
async function act(
  c: TaskContext,
  job: Job<ImplementJobData>,
  p: { plan: ImplementPlan; triage: Triage; answers: HumanAnswer[]; allowSplit: boolean; input: () => Promise<TriageInput> },
): Promise<GoAhead | { done: true }> {
  const { triage } = p;
  const go: GoAhead = { criteria: triage.criteria, answers: p.answers };
  if (triage.verdict === "ready") return go;
  if (triage.verdict === "clarify") {
    // Asked once: after the humans answered, a second `clarify` does not ask again.
    if (triage.round > 0) {
      c.log.info({ questions: triage.questions }, "triage still has questions after the answers; going ahead anyway (it asks at most once)");
      return go;
    }
    await askClarification(c, p.plan.issue, triage);
    return { done: true };
  }
  // A sub-issue is never split again: its split verdict reads as ready.
  if (!p.allowSplit) {
    c.log.info("triage said split for a sub-issue, which is never split again; going ahead");
    return go;
  }
  await proposeSplit(c, job, { plan: p.plan, triage, input: p.input });
  return { done: true };
}
