import type { Job } from "bullmq";
import { issuePrompt } from "../src/agent/prompts.js";
import { getRepository } from "../src/github/repos.js";
import { postComment } from "../src/linear/comments.js";
import { fetchIssueContext, type IssueContext } from "../src/linear/issues.js";
import { startIssue } from "../src/linear/workflow.js";
import { routeIssue } from "../src/routing/route-issue.js";
import { routeOrAsk } from "../src/routing/route-or-ask.js";
import type { RepoSettings } from "../src/routing/routing-config.js";
import { type Landed, sessionAsked } from "../src/tasks/task.js";
import { branchForIssue } from "../src/workspace/index.js";
import { agentJob, type Prepared } from "./agent-job.js";
import { checkpointOf, runAgentPass } from "./agent-pass.js";
import { isLinearRefusal, unrecoverable } from "./failures.js";
import { publishImplemented } from "./implement-publish.js";
import { openLabelSession } from "./label-session.js";
import type { TaskContext, WorkerDeps } from "./job-context.js";
import { pushKeptWork } from "./push-kept.js";
import type { ImplementJobData } from "./queues.js";
import { askForRepo } from "./repo-question.js";
import { attachSession, awaitsReview, queueSessionFeedback } from "./session-feedback.js";
import { sideBySide } from "./side-by-side.js";
import { awaitBlockers, subtaskContext } from "./tree/subtask-gate.js";
import { type GoAhead, triageGate } from "./triage-gate.js";

export type { WorkerDeps } from "./job-context.js";

/** What an implement run works on, read while holding the issue. */
export interface ImplementPlan {
  issue: IssueContext;
  repo: RepoSettings;
  branch: string;
  /** What triage adds: acceptance criteria and answers to its questions. */
  spec?: GoAhead;
}

type Result = { prUrl: string | null };

/** Processor for `implement` jobs: Linear issue → agent run in a worktree → checks → branch → PR. */
export function createImplementProcessor(deps: WorkerDeps) {
  return agentJob<ImplementJobData, ImplementPlan, Result>(deps, {
    task: async (job) => {
      let task = await deps.tasks.ensure({ issueId: job.data.issueId, identifier: job.data.identifier, title: job.data.title, issueUrl: job.data.url });
      // The label path's workspace, before any Linear call: the app acts per workspace.
      const org = job.data.organizationId;
      if (org && task.organizationId !== org) task = await deps.tasks.update(task.issueId, () => ({ organizationId: org }));
      return job.data.session ? attachSession(deps.tasks, task, job.data.session) : task;
    },
    idle: (c) => ({ prUrl: c?.task().prUrl ?? null }),
    refuse: async (c, job) => ownSessionEcho(c, job) ?? (await refuseForSession(c, job)) ?? refuseStale(c, job),
    starting: (c) => openLabelSession(c),
    // A job put back to wait for a slot takes it first, for the repository it already routed to:
    // waiting then costs Redis calls only, not a Linear request per wake-up.
    knownSlot: (c, job) => {
      const t = c.task();
      if (t.jobId !== job.id || !t.step?.startsWith("waiting:") || !t.repo) return null;
      const repo = `${t.repo.owner}/${t.repo.name}`;
      return { repo, maxAgents: (c.deps.routing.repos[repo.toLowerCase()] ?? c.deps.routing.defaults).maxAgents };
    },
    prepare,
    run: async (c, job, plan) => {
      const work = await landWork(c, job, plan);
      if ("nothing" in work) return changedNothing(c, plan, work.nothing);
      return { prUrl: await publishImplemented(c, plan, work.landed) };
    },
  });
}

/**
 * Linear may announce a session the label path opened itself (`agentSessionCreateOnIssue`) as
 * `created` (undocumented either way): that is the task's own panel, not new work or feedback.
 */
function ownSessionEcho(c: TaskContext, job: Job<ImplementJobData>): Result | null {
  const session = job.data.session;
  const t = c.task();
  if (!session || session.followUp !== null || t.session?.id !== session.id || t.session.openedBy !== "label") return null;
  c.log.info({ session: session.id }, "Linear announced the session this task opened itself; nothing to do");
  return { prUrl: t.prUrl };
}

/**
 * One task per issue: a session (delegation, @mention or message) on an issue whose PR awaits
 * review, or whose agent already works, becomes feedback for that task rather than a second run.
 */
async function refuseForSession(c: TaskContext, job: Job<ImplementJobData>): Promise<Result | null> {
  const session = job.data.session;
  const t = c.task();
  if (!session || !awaitsReview(t)) return null;
  const body = session.followUp ?? (isStub(session.comment) ? null : session.comment) ?? session.promptContext ?? "Asked again in a Linear agent session.";
  const message = { id: `${session.id}:${job.id}`, body, author: job.data.source.actor, receivedAt: job.data.source.receivedAt, delivery: job.data.source.delivery };
  const { jobId } = await queueSessionFeedback(c.deps, { task: t, session, message, signal: c.signal });
  c.log.info({ revision: jobId }, "the session asks for work on an issue whose PR awaits review; queued as feedback");
  return { prUrl: t.prUrl };
}

// Linear's root comment of a delegation's session says only that the thread is the session's.
function isStub(comment: string | null): boolean {
  return !comment || /^This thread is for an agent session with /.test(comment.trim());
}

/** A late or repeated labelling that must start nothing; says why where a person would look. */
async function refuseStale(c: TaskContext, job: Job<ImplementJobData>): Promise<Result | null> {
  const t = c.task();
  const data = job.data;
  // A labelling event older than the task's latest attempt is already handled (a late webhook
  // after the reconciler repaired it, or the other way round).
  if (t.jobId && t.jobId !== job.id && t.startedAt && Date.parse(data.eventAt) < Date.parse(t.startedAt) && !data.source.delivery.startsWith("reconcile")) {
    c.log.info({ eventAt: data.eventAt, startedAt: t.startedAt }, "stale labelling event; an attempt already started after it");
    return { prUrl: t.prUrl };
  }
  // A merged task is final (its branch is history); labelling it again must say so, not fail
  // quietly on the state machine.
  if (t.state === "merged") {
    await postComment(c.linear, {
      issueId: data.issueId,
      body: `🤖 The pull request${t.prUrl ? ` ${t.prUrl}` : ""} for this issue was already merged, so the agent does not start again. Open a new issue for further work and label it \`${c.deps.config.agentLabel}\`.`,
    });
    c.log.info("issue labelled again after its pull request was merged; not running");
    return { prUrl: t.prUrl };
  }
  return null;
}

/** Reads the issue, checks it still wants an agent and routes it to its repository. */
async function prepare(c: TaskContext, job: Job<ImplementJobData>): Promise<Prepared<ImplementPlan> | { done: Result }> {
  const { deps, log } = c;
  // A sub-issue waits for its blockers' PRs to merge, holding nothing.
  if (await awaitBlockers(c, job)) return { done: { prUrl: null } };
  const before = c.task();
  let shown: Promise<void> = Promise.resolve();
  // A split parent is never worked on: the triage gate hands it back to the manager.
  if (!before.plan && (before.jobId !== job.id || !before.step?.startsWith("waiting:"))) {
    const attempts = before.jobId === job.id ? before.attempts : before.attempts + 1;
    await c.save({ state: "working", step: "reading the issue", attempts, jobId: job.id ?? null, error: null, question: null, startedAt: new Date().toISOString(), finishedAt: null });
    shown = c.publish();
  }
  const read = fetchIssueContext(c.linear, { issueId: job.data.issueId }).catch((err: unknown) => {
    const message = `cannot read Linear issue ${job.data.identifier}: ${(err as Error).message}`;
    // Only Linear's refusals are final; an outage or an exhausted rate limit is worth a retry.
    throw isLinearRefusal(err) ? unrecoverable(message, err) : new Error(message, { cause: err });
  });
  // The status shows while the issue is read: each is a round trip to Linear.
  const [issue] = await sideBySide([read, shown]);
  await c.save({ title: issue.title, issueUrl: issue.url, teamId: issue.team.id });
  // A session the label path opened for itself leaves the label the switch (and routing as it was).
  const viaSession = Boolean(job.data.session) || sessionAsked(c.task());
  const unwanted = notWanted(issue, deps.config.agentLabel, viaSession);
  const routable = { teamKey: issue.team.key, projectName: issue.projectName, labelNames: issue.labelNames };
  // A session can ask which repository instead of guessing; the label path says how to route in a comment.
  const route = unwanted ? null : viaSession ? routeOrAsk(routable, deps.routing, c.task().repoChoice?.repo ?? null) : routeIssue(routable, deps.routing);
  if (route && !route.ok && "ask" in route) {
    await askForRepo(c, job, route.ask);
    return { done: { prUrl: null } };
  }
  if (unwanted && c.task().plan) {
    // A parent's stop goes through the cancel that removing its label or closing it sends.
    log.info({ reason: unwanted }, "a split parent no longer wants an agent; nothing to start");
    return { done: { prUrl: null } };
  }
  if (unwanted || !route?.ok) {
    const reason = unwanted ?? (route && !route.ok ? route.reason : "");
    // The session shows the reason as its error; the label path says it in a comment.
    if (!unwanted && !c.task().session) await postComment(c.linear, { issueId: issue.id, body: `🤖 ${reason}` });
    await c.save({ state: unwanted ? "stopped" : "failed", step: null, error: reason, finishedAt: new Date().toISOString() });
    await c.publish();
    log.info({ reason, issueState: issue.state }, unwanted ? "the issue no longer wants an agent; not starting" : "issue routes to no repository");
    return { done: { prUrl: null } };
  }
  const repo = route.repo;
  const branch = branchForIssue(issue.identifier);
  await c.save({ repo: { owner: repo.owner, name: repo.name }, branch });
  // Triage decides whether the issue can be delegated as it stands: ask first, or split it.
  const spec = await triageGate(c, job, { issue, repo, branch });
  if ("done" in spec) return { done: { prUrl: null } };
  return { slot: { repo: `${repo.owner}/${repo.name}`, maxAgents: repo.maxAgents }, plan: { issue, repo, branch, spec } };
}

/**
 * Why the issue no longer wants an agent, or null. The label is the switch, and a Done or
 * Canceled issue is finished work: a job that outlived either (it waited in the queue, a late
 * redelivery, a re-add merged into a job being cancelled) must not start an agent nobody wants.
 */
export function notWanted(issue: IssueContext, agentLabel: string, viaSession: boolean): string | null {
  const wanted = agentLabel.toLowerCase();
  // A delegated issue needs no label: un-delegating (or Stop) is its switch, and sends a cancel.
  if (!viaSession && !issue.labelNames.some((name) => name.toLowerCase() === wanted)) {
    return `Not started: the \`${agentLabel}\` label is no longer on the issue.`;
  }
  if (issue.state.type === "completed" || issue.state.type === "canceled") {
    const what = issue.state.type === "completed" ? "completed" : "cancelled";
    return `Not started: the issue is ${what} in Linear (${issue.state.name}). Reopen it before adding the label again.`;
  }
  return null;
}

/** How a pass ended without a commit: the agent's last words and the limit it hit, if any. */
interface Nothing {
  finalText: string;
  limitNote: string | null;
}

/**
 * Runs the agent pass for this job, or picks up work already done: what an earlier attempt of
 * this job pushed (a retry after a failed GitHub or Linear call), or a commit a refused push kept
 * (pushed now, without running the agent again).
 */
async function landWork(c: TaskContext, job: Job<ImplementJobData>, plan: ImplementPlan): Promise<{ landed: Landed } | { nothing: Nothing }> {
  const jobId = String(job.id);
  const earlier = c.task().landed;
  const where = await startWork(c, plan);
  if (earlier && earlier.pushed === false && !earlier.revision) {
    const pushed = await pushKeptWork(c, earlier, { ...plan, ...where, key: jobId });
    if (pushed) return { landed: pushed };
  } else if (earlier?.jobId === jobId && earlier.pushed !== false && !earlier.revision) {
    c.log.info({ sha: earlier.sha }, "this job already pushed its work; finishing the pull request");
    return { landed: earlier };
  }
  const { issue, repo, branch } = plan;
  const resumeNote = c.task().handoff?.startsWith("Interrupted") ? c.task().handoff : null;
  const result = await runAgentPass(c, {
    repo,
    ...where,
    branch,
    key: jobId,
    firstMessage: async () => issuePrompt(issue, resumeNote, job.data.session, { ...plan.spec, tree: await subtaskContext(c, issue) }),
    checkpoint: (r, sha) => checkpointOf(jobId, r, sha),
    commitMessage: `${issue.identifier}: ${issue.title}\n\nImplemented by agent-workforce for ${issue.url}`,
  });
  await c.save({ handoff: result.gated.outcome.finalText || null });
  const sha = result.pushedSha ?? result.unpushed?.sha;
  if (!sha) return { nothing: { finalText: result.gated.outcome.finalText, limitNote: result.gated.limitNote } };
  const landed = checkpointOf(jobId, result, sha);
  await c.save({ landed });
  if (result.unpushed) throw result.unpushed.error;
  return { landed };
}

/** Moves the issue to started (unless it is already further) and finds the repository's clone URL and base branch. */
async function startWork(c: TaskContext, plan: ImplementPlan): Promise<{ cloneUrl: string; baseBranch: string }> {
  const { issue, repo } = plan;
  await c.save({ state: "working", step: "preparing the workspace" });
  const ref = { owner: repo.owner, repo: repo.name };
  const lookup = c.deps.clients.github.forRepo(ref, { signal: c.signal }).then((gh) => getRepository(gh, { ...ref, signal: c.signal }));
  // The issue's state and the progress comment change while the repository is looked up: none
  // waits for another, and nothing saves the task until all are done (publish rewrites it).
  // Linear's step first: its refusal is final, so it is the failure to report when both fail.
  const [, , remote] = await sideBySide([startIssue(c.linear, { issueId: issue.id, teamId: issue.team.id, state: issue.state }), c.publish(), lookup]);
  const baseBranch = repo.baseBranch ?? remote.defaultBranch;
  await c.save({ baseBranch, step: "agent working" });
  return { cloneUrl: remote.cloneUrl, baseBranch };
}

/**
 * The agent changed nothing. When it ended with a question, the question goes to the humans (a
 * Linear comment, and the task under "Needs you"); otherwise the job fails saying so.
 */
async function changedNothing(c: TaskContext, plan: ImplementPlan, n: Nothing): Promise<Result> {
  const question = n.limitNote ? null : openQuestion(n.finalText);
  if (!question) throw unrecoverable(`${n.limitNote ?? "The agent finished without changing any file."} No pull request was opened.`);
  // In a session the question is its elicitation (rendered from the task); a comment otherwise.
  if (!c.task().session) await postComment(c.linear, {
    issueId: plan.issue.id,
    body: `🤖 The agent has a question before it changes anything:\n\n${question.split("\n").map((l) => `> ${l}`).join("\n")}\n\nAnswer in a comment, then remove and re-add the \`${c.deps.config.agentLabel}\` label to continue with your answer.`,
  });
  await c.save({ state: "stopped", step: null, question, error: null, finishedAt: new Date().toISOString() });
  await c.publish();
  c.log.info("the agent asked a question instead of changing anything");
  return { prUrl: null };
}

/** The agent's final text when it asks something (a line ending in "?"), else null. */
export function openQuestion(finalText: string): string | null {
  const text = finalText.trim();
  if (!text) return null;
  return text.split("\n").some((line) => line.trim().endsWith("?")) ? text.slice(-3000) : null;
}
