import type { Job } from "bullmq";
import type { Lease } from "../src/tasks/locks.js";
import type { Landed } from "../src/tasks/task.js";
import type { RepoSettings } from "../src/routing/routing-config.js";
import { issuePrompt } from "../src/agent/prompts.js";
import { openOrUpdatePullRequest } from "../src/github/pull-requests.js";
import { getRepository } from "../src/github/repos.js";
import { setCommitStatus } from "../src/github/statuses.js";
import { attachPullRequest } from "../src/linear/attachments.js";
import { postComment } from "../src/linear/comments.js";
import { fetchIssueContext, type IssueContext } from "../src/linear/issues.js";
import { moveIssue } from "../src/linear/workflow.js";
import { routeIssue } from "../src/routing/route-issue.js";
import { prTitle, renderPrBody } from "../src/status/pr-body.js";
import { branchForIssue } from "../src/workspace/index.js";
import { checkpointOf, InterruptedError, runAgentPass } from "./agent-pass.js";
import { isLinearRefusal, recordFailure, unrecoverable } from "./failures.js";
import { type TaskContext, taskContext, type WorkerDeps } from "./job-context.js";
import { holdAgentGates } from "./gates.js";
import { holdIssue } from "./leases.js";
import { handOver } from "./waiting.js";
import type { ImplementJobData } from "./queues.js";

export type { WorkerDeps } from "./job-context.js";

/** Processor for `implement` jobs: Linear issue → agent run in a worktree → checks → branch → PR. */
export function createImplementProcessor(deps: WorkerDeps) {
  return async (job: Job<ImplementJobData>, token?: string, signal?: AbortSignal): Promise<{ prUrl: string | null }> => {
    const data = job.data;
    const initial = await deps.tasks.ensure({ issueId: data.issueId, identifier: data.identifier, title: data.title, issueUrl: data.url });
    const c = taskContext(deps, job, data.issueId, initial, signal);
    try {
      if (await deps.cancellation.stoppedSince(data.issueId, job.timestamp)) {
        c.log.info("the agent label was removed before this job started; not running");
        return { prUrl: null };
      }
      // A labelling event older than the task's latest attempt is already handled (a late
      // webhook after the reconciler repaired it, or the other way round).
      const t = c.task();
      if (t.jobId && t.jobId !== job.id && t.startedAt && Date.parse(data.eventAt) < Date.parse(t.startedAt) && data.source.delivery.startsWith("reconcile") === false) {
        c.log.info({ eventAt: data.eventAt, startedAt: t.startedAt }, "stale labelling event; an attempt already started after it");
        return { prUrl: t.prUrl };
      }
      // A merged task is final (its branch is history); labelling it again must say so, not fail
      // quietly on the state machine.
      if (t.state === "merged") {
        await postComment(c.linear, {
          issueId: data.issueId,
          body: `🤖 The pull request${t.prUrl ? ` ${t.prUrl}` : ""} for this issue was already merged, so the agent does not start again. Open a new issue for further work and label it \`${deps.config.agentLabel}\`.`,
        });
        c.log.info("issue labelled again after its pull request was merged; not running");
        return { prUrl: t.prUrl };
      }
      const issueLease = await holdIssue(c, { job, token });
      try {
        return await implement(c, job, token);
      } finally {
        await issueLease.release();
      }
    } catch (err) {
      if (err instanceof InterruptedError) await handOver(c, job, token);
      throw await recordFailure(c, job, err);
    } finally {
      c.done();
    }
  };
}

async function implement(c: TaskContext, job: Job<ImplementJobData>, token: string | undefined): Promise<{ prUrl: string | null }> {
  const { deps } = c;
  // A job that was put back to wait for a slot takes the slot first, for the repository it
  // already routed to: waiting then costs Redis calls only, not Linear requests every few seconds.
  const before = c.task();
  let gates: Lease | null = null;
  if (before.jobId === job.id && before.step?.startsWith("waiting:") && before.repo) {
    const full = `${before.repo.owner}/${before.repo.name}`;
    const settings = deps.routing.repos[full.toLowerCase()] ?? deps.routing.defaults;
    gates = await holdAgentGates(c, { job, token, repo: full, maxAgents: settings.maxAgents });
  } else {
    await c.save({
      state: "working",
      step: "reading the issue",
      attempts: before.jobId === job.id ? before.attempts : before.attempts + 1,
      jobId: job.id ?? null,
      error: null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
    });
    await c.publish();
  }
  try {
    return await implementWithGates(c, job, token, gates);
  } finally {
    await gates?.release();
  }
}

async function implementWithGates(
  c: TaskContext,
  job: Job<ImplementJobData>,
  token: string | undefined,
  early: Lease | null,
): Promise<{ prUrl: string | null }> {
  const { deps, linear, signal, log } = c;
  const { config } = deps;
  const data = job.data;
  const issue = await fetchIssueContext(linear, { issueId: data.issueId }).catch((err: unknown) => {
    const message = `cannot read Linear issue ${data.identifier}: ${(err as Error).message}`;
    // Only Linear's refusals are final; an outage or an exhausted rate limit is worth a retry.
    throw isLinearRefusal(err) ? unrecoverable(message, err) : new Error(message, { cause: err });
  });
  await c.save({ title: issue.title, issueUrl: issue.url, teamId: issue.team.id });
  const unwanted = notWanted(issue, config.agentLabel);
  if (unwanted) {
    await c.save({ state: "stopped", step: null, error: unwanted, finishedAt: new Date().toISOString() });
    await c.publish();
    log.info({ reason: unwanted, issueState: issue.state }, "the issue no longer wants an agent; not starting");
    return { prUrl: null };
  }

  const route = routeIssue({ teamKey: issue.team.key, projectName: issue.projectName, labelNames: issue.labelNames }, deps.routing);
  if (!route.ok) {
    await postComment(linear, { issueId: issue.id, body: `🤖 ${route.reason}` });
    await c.save({ state: "failed", step: null, error: route.reason, finishedAt: new Date().toISOString() });
    await c.publish();
    log.warn({ reason: route.reason }, "issue routes to no repository");
    return { prUrl: null };
  }
  const repo = route.repo;
  const full = `${repo.owner}/${repo.name}`;
  const branch = branchForIssue(issue.identifier);
  await c.save({ repo: { owner: repo.owner, name: repo.name }, branch });
  const sameRepo = early && c.task().repo?.owner === repo.owner && c.task().repo?.name === repo.name;
  const gates = sameRepo ? null : await holdAgentGates(c, { job, token, repo: full, maxAgents: repo.maxAgents });
  try {
    await c.save({ state: "working", step: "preparing the workspace" });
    await moveIssue(linear, { issueId: issue.id, teamId: issue.team.id, currentStateId: issue.state.id, want: { type: "started" } });
    await c.publish();
    const gh = deps.clients.github;
    const remote = await getRepository(gh, { owner: repo.owner, repo: repo.name, signal });
    const baseBranch = repo.baseBranch ?? remote.defaultBranch;
    await c.save({ baseBranch, step: "agent working" });

    const landed = await agentPassOnce(c, job, { issue, repo, cloneUrl: remote.cloneUrl, branch, baseBranch });
    const checksFailed = landed.checks !== null && !landed.checks.passed;
    const draft = Boolean(landed.limitNote) || checksFailed;
    const body = renderPrBody(c.task(), {
      summary: landed.summary,
      model: config.agent.model,
      agentHandle: config.agent.handle,
      limitNote: landed.limitNote,
      checksOutput: checksFailed ? (landed.checks?.output ?? null) : null,
    });
    if (signal.aborted) throw new Error("the run was stopped");
    const pr = await openOrUpdatePullRequest(gh, { owner: repo.owner, repo: repo.name, branch, base: baseBranch, title: prTitle(issue), body, draft, signal });
    log.info({ pr: pr.number, created: pr.created, draft: pr.draft }, "pull request ready");
    if (pr.notReady) log.warn(pr.notReady);
    await setCommitStatus(gh, {
      owner: repo.owner,
      repo: repo.name,
      sha: landed.sha,
      state: checksFailed ? "failure" : "success",
      description: checksFailed ? "Agent finished; checks still fail" : "Agent finished; awaiting review",
      targetUrl: issue.url,
      signal,
    });
    await c.save({
      state: "pr-open",
      step: draft ? "draft pull request open" : null,
      prNumber: pr.number,
      prUrl: pr.url,
      prOpenedAt: c.task().prOpenedAt ?? new Date().toISOString(),
      error: landed.limitNote ?? pr.notReady ?? null,
      finishedAt: new Date().toISOString(),
    });
    await attachPullRequest(linear, { issueId: issue.id, url: pr.url, title: `PR #${pr.number}: ${prTitle(issue)}`, subtitle: full });
    await moveIssue(linear, { issueId: issue.id, teamId: issue.team.id, want: { name: "In Review" } });
    await c.publish();
    return { prUrl: pr.url };
  } finally {
    await gates?.release();
  }
}

/**
 * Why the issue no longer wants an agent, or null. The label is the switch, and a Done or
 * Canceled issue is finished work: a job that outlived either (it waited in the queue, a late
 * redelivery, a re-add merged into a job being cancelled) must not start an agent nobody wants.
 */
function notWanted(issue: IssueContext, agentLabel: string): string | null {
  const wanted = agentLabel.toLowerCase();
  if (!issue.labelNames.some((name) => name.toLowerCase() === wanted)) {
    return `Not started: the \`${agentLabel}\` label is no longer on the issue.`;
  }
  if (issue.state.type === "completed" || issue.state.type === "canceled") {
    const what = issue.state.type === "completed" ? "completed" : "cancelled";
    return `Not started: the issue is ${what} in Linear (${issue.state.name}). Reopen it before adding the label again.`;
  }
  return null;
}

/**
 * Runs the agent pass for this job, or picks up what an earlier attempt of the same job pushed:
 * a retry after a failed GitHub or Linear call must not pay for the agent (and push) again.
 */
async function agentPassOnce(
  c: TaskContext,
  job: Job<ImplementJobData>,
  p: { issue: IssueContext; repo: RepoSettings; cloneUrl: string; branch: string; baseBranch: string },
): Promise<Landed> {
  const jobId = String(job.id);
  const earlier = c.task().landed;
  if (earlier?.jobId === jobId) {
    c.log.info({ sha: earlier.sha }, "this job already pushed its work; finishing the pull request");
    return earlier;
  }
  const resumeNote = c.task().handoff?.startsWith("Interrupted") ? c.task().handoff : null;
  const result = await runAgentPass(c, {
    repo: p.repo,
    cloneUrl: p.cloneUrl,
    branch: p.branch,
    baseBranch: p.baseBranch,
    key: jobId,
    firstMessage: async () => issuePrompt(p.issue, resumeNote),
    commitMessage: `${p.issue.identifier}: ${p.issue.title}\n\nImplemented by agent-workforce for ${p.issue.url}`,
  });
  const { gated } = result;
  await c.save({ handoff: gated.outcome.finalText || null });
  if (!result.pushedSha) {
    throw unrecoverable(`${gated.limitNote ?? "The agent finished without changing any file."} No pull request was opened.`);
  }
  const landed = checkpointOf(jobId, result, result.pushedSha);
  await c.save({ landed });
  return landed;
}
