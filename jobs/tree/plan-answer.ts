import type { LinearClient } from "@linear/sdk";
import type { TriageInput } from "../../src/agent/triage.js";
import { getRepository } from "../../src/github/repos.js";
import { postActivity } from "../../src/linear/agent-sessions.js";
import { upsertComment } from "../../src/linear/comments.js";
import { fetchIssueContext } from "../../src/linear/issues.js";
import { planUuid } from "../../src/linear/sub-issues.js";
import { isApproval, revisedOnceReply } from "../../src/status/plan-text.js";
import { publishStatus } from "../../src/status/publish.js";
import { addUsage, type HumanAnswer, type SplitPlan, type Task, workspaceOf } from "../../src/tasks/task.js";
import { repoOutline } from "../../src/workspace/repo-outline.js";
import type { FeedbackOutcome } from "../feedback.js";
import type { WorkerDeps } from "../job-context.js";
import { queueCreatePlan } from "./queue-tree.js";
import { inSession, planCall, postPlan, treeBudget } from "./split-propose.js";

/**
 * A human answered a proposed plan. Approval ("approve", "lgtm", 👍 … as the whole answer) creates
 * it; anything else is the changes they want, and revises the plan once (a new planning call,
 * posted again for approval); after that, changes are answered with "approve or remove the label".
 * Each answer id is taken once: a redelivered webhook or a retried job only finishes what the
 * first began (the create-plan job, the revised plan's post).
 */
export async function answerPlan(deps: WorkerDeps, task: Task, answer: HumanAnswer, signal?: AbortSignal): Promise<FeedbackOutcome> {
  const log = deps.logger.child({ issue: task.identifier, answer: answer.id });
  const linear = deps.clients.linear(signal, workspaceOf(task));
  const plan = task.plan;
  if (!plan) return { action: "ignored", reason: "the task has no plan" };
  const retried = plan.answered.includes(answer.id);
  if (!retried && (plan.status !== "proposed" || task.state !== "needs-input")) {
    return { action: "ignored", reason: `the plan is ${plan.status}; it takes no answer` };
  }
  if (isApproval(answer.body)) return approve(deps, { task, answer, linear, log });
  if (retried) {
    // A revision saved before its job died: its post (the comment, or the session's elicitation)
    // may be missing; it is posted again from the saved plan, with no second planning call.
    if (!inSession(task) && plan.approvalCommentId === revisionCommentId(task, answer)) await postPlan(linear, { issueId: task.issueId, commentId: plan.approvalCommentId, plan });
    await publishStatus(linear, { tasks: deps.tasks, task, agentLabel: deps.config.agentLabel, publicUrl: deps.config.publicUrl });
    return { action: "ignored", reason: "this answer was already taken" };
  }
  if (plan.revisions > 0) return revisedOnce(deps, { task, answer, linear, log });
  return revise(deps, { task, answer, linear, log, signal });
}

type Answering = { task: Task; answer: HumanAnswer; linear: LinearClient; log: WorkerDeps["logger"] };

/** Approval: the plan is created by its own job (one per plan), the parent now manages. */
async function approve(deps: WorkerDeps, a: Answering): Promise<FeedbackOutcome> {
  const { answer } = a;
  const updated = await deps.tasks.update(a.task.issueId, (t) => {
    const p = t.plan;
    if (!p || p.status !== "proposed" || t.state !== "needs-input" || p.answered.includes(answer.id)) return {};
    return { state: "managing", step: null, error: null, plan: { ...p, status: "creating", approvedBy: answer.author, answered: [...p.answered, answer.id] } };
  });
  const plan = updated.plan;
  if (!plan?.answered.includes(answer.id) || plan.status === "proposed") return { action: "ignored", reason: "the plan no longer waits for approval" };
  await queueCreatePlan(deps.queues, updated.issueId, plan.proposedAt);
  await publishStatus(a.linear, { tasks: deps.tasks, task: updated, agentLabel: deps.config.agentLabel, publicUrl: deps.config.publicUrl });
  a.log.info({ by: answer.author, subtasks: plan.subtasks.length }, "plan approved; creating its sub-issues");
  return { action: "collected" };
}

/**
 * Changes, the first time: the manager revises the plan with them (one more planning call) and
 * asks again. The revision is saved with its cost (the answer taken) before it is posted, under a
 * comment id derived from the answer: a failed post is retried from the saved plan, never re-planned.
 */
async function revise(deps: WorkerDeps, a: Answering & { signal: AbortSignal | undefined }): Promise<FeedbackOutcome> {
  const { task, answer } = a;
  const previous = task.plan as SplitPlan;
  const triage = task.triage;
  if (!triage) return { action: "ignored", reason: "the plan has no triage to revise it from" };
  const input = await revisionInput(deps, task, a.linear, a.signal);
  const proposed = await planCall(deps, { input, triage, issueId: task.issueId, revise: { previous, changes: answer.body }, ...(a.signal ? { signal: a.signal } : {}) });
  const commentId = inSession(task) ? null : revisionCommentId(task, answer);
  const updated = await deps.tasks.update(task.issueId, (t) => {
    const p = t.plan;
    if (!p || p.status !== "proposed" || p.answered.includes(answer.id)) return {};
    const revised: SplitPlan = {
      ...p,
      goal: proposed.goal,
      interfaces: proposed.interfaces,
      subtasks: proposed.subtasks.map((s) => ({ ...s, issueId: null, identifier: null })),
      revisions: p.revisions + 1,
      proposedAt: new Date().toISOString(),
      budgetUsd: treeBudget(deps, proposed.subtasks.length),
      manager: { usage: addUsage(p.manager.usage, proposed.usage), costUsd: p.manager.costUsd + proposed.costUsd },
      approvalCommentId: commentId ?? p.approvalCommentId,
      answered: [...p.answered, answer.id],
    };
    return { plan: revised, usage: addUsage(t.usage, proposed.usage), costUsd: t.costUsd + proposed.costUsd };
  });
  const revised = updated.plan;
  if (!revised?.answered.includes(answer.id)) return { action: "ignored", reason: "the plan no longer waits for changes" };
  if (commentId && revised.approvalCommentId === commentId) await postPlan(a.linear, { issueId: task.issueId, commentId, plan: revised });
  await publishStatus(a.linear, { tasks: deps.tasks, task: updated, agentLabel: deps.config.agentLabel, publicUrl: deps.config.publicUrl });
  a.log.info({ changes: answer.body.slice(0, 200), subtasks: revised.subtasks.map((s) => s.title), usage: proposed.usage, costUsd: proposed.costUsd }, "plan revised with the requested changes; waiting for approval again");
  return { action: "collected" };
}

/** The comment a revision made for `answer` is posted under: derived from the answer, so a retry writes the same one. */
function revisionCommentId(task: Pick<Task, "issueId">, answer: Pick<HumanAnswer, "id">): string {
  return planUuid(task.issueId, answer.id, "revision");
}

/** Changes after the one revision: no new plan, approve it or remove the label. */
async function revisedOnce(deps: WorkerDeps, a: Answering): Promise<FeedbackOutcome> {
  const { task, answer } = a;
  const key = `plan-revised-once:${answer.id}`;
  if (task.session) {
    await postActivity(a.linear, { sessionId: task.session.id, key, content: { type: "elicitation", body: revisedOnceReply() } });
  } else {
    await upsertComment(a.linear, { issueId: task.issueId, commentId: planUuid(task.issueId, answer.id, key), body: `🤖 ${revisedOnceReply()}` });
  }
  await deps.tasks.update(task.issueId, (t) => (t.plan && !t.plan.answered.includes(answer.id) ? { plan: { ...t.plan, answered: [...t.plan.answered, answer.id] } } : {}));
  a.log.info({ changes: answer.body.slice(0, 200) }, "changes asked after the plan's one revision; asked to approve it or remove the label");
  return { action: "ignored", reason: "the plan was revised once already; asked to approve it or remove the label" };
}

/** What the manager reads to revise: the issue as it is now (with its comments) and the repository's outline. */
async function revisionInput(deps: WorkerDeps, task: Task, linear: LinearClient, signal?: AbortSignal): Promise<TriageInput> {
  const issue = await fetchIssueContext(linear, { issueId: task.issueId });
  const base = { issue, answers: task.clarification?.answers ?? [], allowSplit: true, maxSubtasks: deps.config.agent.split.maxSubtasks };
  if (!task.repo) return { ...base, files: [], conventions: [] };
  const { owner, name } = task.repo;
  const gh = await deps.clients.github.forRepo({ owner, repo: name }, signal ? { signal } : {});
  const remote = await getRepository(gh, { owner, repo: name, ...(signal ? { signal } : {}) });
  const settings = deps.routing.repos[`${owner}/${name}`];
  const outline = await repoOutline(deps.workspace, {
    repo: { owner, name },
    cloneUrl: remote.cloneUrl,
    baseBranch: task.baseBranch ?? settings?.baseBranch ?? deps.routing.defaults.baseBranch ?? remote.defaultBranch,
    token: await deps.clients.github.gitToken({ owner, repo: name }, signal ? { signal } : {}),
    ...(signal ? { signal } : {}),
  });
  return { ...base, files: outline.files, conventions: outline.conventions };
}
