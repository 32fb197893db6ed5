import { type Job, UnrecoverableError } from "bullmq";
import { type FeedbackItem, parseReplies, revisionPrompt, withoutReplies } from "../src/agent/prompts.js";
import { formatUsd } from "../src/agent/pricing.js";
import { listReviewComments, postPullRequestComment, replyToReviewComment } from "../src/github/comments.js";
import { openOrUpdatePullRequest } from "../src/github/pull-requests.js";
import { getRepository } from "../src/github/repos.js";
import { setCommitStatus } from "../src/github/statuses.js";
import { prTitle, renderPrBody } from "../src/status/pr-body.js";
import { usageLine } from "../src/status/format.js";
import { checkpointOf, InterruptedError, runAgentPass } from "./agent-pass.js";
import { recordFailure, unrecoverable } from "./failures.js";
import { type TaskContext, taskContext, type WorkerDeps } from "./job-context.js";
import { holdAgentGates } from "./gates.js";
import { holdIssue } from "./leases.js";
import { handOver } from "./waiting.js";
import type { Landed } from "../src/tasks/task.js";
import type { FeedbackJobData, ReviseJobData } from "./queues.js";

/** Processor for `revise` jobs: collected review feedback → new commits on the PR branch → answers. */
export function createReviseProcessor(deps: WorkerDeps) {
  return async (job: Job<ReviseJobData>, token?: string, signal?: AbortSignal): Promise<{ revised: boolean }> => {
    const task = await deps.tasks.get(job.data.issueId);
    if (!task || !task.repo || !task.prNumber || !task.branch) return { revised: false };
    if (task.state === "merged" || task.state === "closed" || task.state === "stopped") return { revised: false };
    const c = taskContext(deps, job, task.issueId, task, signal);
    const jobId = String(job.id);
    let claimed = false;
    try {
      if (await deps.cancellation.stoppedSince(task.issueId, job.timestamp)) return { revised: false };
      const lease = await holdIssue(c, { job, token });
      try {
        const settings = { ...(deps.routing.repos[`${task.repo.owner}/${task.repo.name}`.toLowerCase()] ?? deps.routing.defaults) };
        const full = `${task.repo.owner}/${task.repo.name}`;
        const gates = await holdAgentGates(c, { job, token, repo: full, maxAgents: settings.maxAgents });
        try {
          const taken = await deps.feedback.claim(task.issueId, jobId);
          claimed = true;
          if (taken.length === 0) {
            c.log.info("no feedback waiting; nothing to revise");
            return { revised: false };
          }
          await revise(c, job, { ...settings, owner: task.repo.owner, name: task.repo.name }, taken);
          await deps.feedback.complete(task.issueId, jobId);
          claimed = false;
          return { revised: true };
        } finally {
          await gates.release();
        }
      } finally {
        await lease.release();
      }
    } catch (err) {
      // Feedback a failed or interrupted revision took goes back, so the next run still sees it.
      if (claimed) await deps.feedback.release(c.issueId, jobId).catch(() => undefined);
      if (err instanceof InterruptedError) await handOver(c, job, token);
      const revising = c.task().state === "revising";
      const thrown = await recordFailure(c, job, err);
      if (thrown instanceof UnrecoverableError) await showEndInCommitStatus(c, revising);
      throw thrown;
    } finally {
      c.done();
    }
  };
}

/**
 * Shows on the PR head that the revision ended without a result: a failure is shown where reviewers
 * look, and the pending status a revision sets when it starts must not stay pending after a stop.
 * Best effort: the failure is already recorded on the task and in Linear.
 */
async function showEndInCommitStatus(c: TaskContext, wasRevising: boolean): Promise<void> {
  const task = c.task();
  const failed = task.state === "failed";
  if (!task.repo || !task.prNumber || !(failed || (task.state === "stopped" && wasRevising))) return;
  const gh = c.deps.clients.github;
  const where = { owner: task.repo.owner, repo: task.repo.name };
  try {
    // Not bound to the job's signal: a stopped job must still be able to say so.
    const { data: pr } = await gh.rest.pulls.get({ ...where, pull_number: task.prNumber });
    const what = failed ? "Agent revision failed" : "Agent revision stopped";
    await setCommitStatus(gh, { ...where, sha: pr.head.sha, state: "error", description: `${what}: ${task.error ?? "see the Linear issue"}`, targetUrl: task.issueUrl });
  } catch (err) {
    c.log.warn({ err }, "could not show the end of the revision in the pull request's commit status");
  }
}

async function revise(
  c: TaskContext,
  job: Job<ReviseJobData>,
  repo: { owner: string; name: string; baseBranch: string | undefined; checkCommand: string | undefined; maxAgents: number },
  taken: FeedbackJobData[],
): Promise<void> {
  const { deps, signal, log } = c;
  const gh = deps.clients.github;
  const { config } = deps;
  const task = c.task();
  const prNumber = task.prNumber as number;
  const branch = task.branch as string;
  const { data: pr } = await gh.rest.pulls.get({ owner: repo.owner, repo: repo.name, pull_number: prNumber, request: { signal } });
  if (pr.state !== "open") throw unrecoverable(`pull request #${prNumber} is ${pr.merged ? "merged" : "closed"}; nothing to revise`);
  const items = await gatherFeedback(c, repo, prNumber, taken);
  log.info({ items: items.length }, "revision starting");

  await c.save({ state: "revising", step: `addressing ${items.length} piece${items.length === 1 ? "" : "s"} of feedback`, error: null });
  await setCommitStatus(gh, { owner: repo.owner, repo: repo.name, sha: pr.head.sha, state: "pending", description: "Agent is revising this pull request", signal });
  await c.publish();

  const before = { turns: task.turns, usage: task.usage, costUsd: task.costUsd };
  const landed = await revisionPassOnce(c, job, { repo, pr, items });
  const revision = landed.revision as NonNullable<Landed["revision"]>;
  const report = landed.summary;
  const replies = parseReplies(report);
  const summary = withoutReplies(report);
  const head = landed.sha;
  const checksFailed = landed.checks !== null && !landed.checks.passed;
  // Each answer is recorded as it is posted, so a retry after a failed post does not repeat it.
  const note = async (patch: Partial<typeof revision>) => {
    Object.assign(revision, patch);
    await c.save({ landed: { ...landed, revision: { ...revision } } });
  };

  for (const item of items.filter((i) => i.kind === "inline" && !revision.replied.includes(i.id))) {
    const answer = replies.get(item.id) ?? `Addressed in ${head.slice(0, 7)}.`;
    const root = taken.find((t) => t.commentId === item.id)?.location?.inReplyToId ?? item.id;
    await replyToReviewComment(gh, { owner: repo.owner, repo: repo.name, pullNumber: prNumber, commentId: root, body: answer, signal });
    await note({ replied: [...revision.replied, item.id] });
  }
  const general = items.filter((i) => i.kind !== "inline").map((i) => (replies.get(i.id) ? `- ${replies.get(i.id)}` : null));
  if (!revision.summaryPosted) {
    await postPullRequestComment(gh, {
      owner: repo.owner,
      repo: repo.name,
      pullNumber: prNumber,
      body: [
        revision.committed ? `🤖 Revision pushed in ${head.slice(0, 7)}.` : "🤖 No code changes were needed for this feedback.",
        "",
        summary || "_The agent did not write a summary._",
        ...(general.some(Boolean) ? ["", ...general.filter((g): g is string => g !== null)] : []),
        "",
        landed.checks ? `Checks: \`${landed.checks.command}\` ${checksFailed ? "still fail" : "passed"}.` : "",
        `This revision: ${usageLine(revision.pass)}. Total so far: ${formatUsd(c.task().costUsd)}.`,
      ]
        .filter((l, i, all) => l !== "" || all[i - 1] !== "")
        .join("\n"),
      signal,
    });
    await note({ summaryPosted: true });
  }
  await c.save({
    handoff: report || task.handoff,
    state: "pr-open",
    step: null,
    revisions: (c.task().revisions ?? 0) + 1,
    finishedAt: new Date().toISOString(),
    error: landed.limitNote,
  });
  const body = renderPrBody(c.task(), {
    summary,
    model: config.agent.model,
    agentHandle: config.agent.handle,
    limitNote: landed.limitNote,
    checksOutput: checksFailed ? (landed.checks?.output ?? null) : null,
  });
  const updated = await openOrUpdatePullRequest(gh, { owner: repo.owner, repo: repo.name, branch, base: pr.base.ref, title: prTitle(task), body, draft: checksFailed, signal });
  if (updated.notReady) c.log.warn(updated.notReady);
  await setCommitStatus(gh, {
    owner: repo.owner,
    repo: repo.name,
    sha: head,
    state: checksFailed ? "failure" : "success",
    description: checksFailed ? "Agent revised; checks still fail" : "Agent revised; awaiting review",
    signal,
  });
  await c.publish();
  log.info({ before, after: { turns: c.task().turns, costUsd: c.task().costUsd }, sha: head }, "revision done");
}

/**
 * Runs the revision's agent pass, or picks up what an earlier attempt of this job pushed: a retry
 * after a failed GitHub call answers the feedback without paying for the agent again.
 */
async function revisionPassOnce(
  c: TaskContext,
  job: Job<ReviseJobData>,
  p: {
    repo: { owner: string; name: string; baseBranch: string | undefined; checkCommand: string | undefined; maxAgents: number };
    pr: { html_url: string; base: { ref: string }; head: { sha: string } };
    items: FeedbackItem[];
  },
): Promise<Landed> {
  const jobId = String(job.id);
  const task = c.task();
  if (task.landed?.jobId === jobId && task.landed.revision) {
    c.log.info({ sha: task.landed.sha }, "this revision already pushed its work; finishing its answers");
    return task.landed;
  }
  const gh = c.deps.clients.github;
  const remote = await getRepository(gh, { owner: p.repo.owner, repo: p.repo.name, signal: c.signal });
  const result = await runAgentPass(c, {
    repo: { ...p.repo },
    cloneUrl: remote.cloneUrl,
    branch: task.branch as string,
    baseBranch: p.pr.base.ref,
    key: jobId,
    firstMessage: async (worktree) =>
      revisionPrompt({
        identifier: task.identifier,
        prNumber: task.prNumber as number,
        handoff: task.handoff,
        diff: await worktree.diffAgainstBase({ maxChars: 60_000 }),
        feedback: p.items,
      }),
    commitMessage: `${task.identifier}: address review feedback\n\nRevised by agent-workforce for ${p.pr.html_url}`,
  });
  const landed: Landed = {
    ...checkpointOf(jobId, result, result.pushedSha ?? p.pr.head.sha),
    revision: { committed: result.committed, pass: result.pass, replied: [], summaryPosted: false },
  };
  await c.save({ landed });
  return landed;
}

/**
 * The feedback to address: what the webhooks collected, plus any inline comment of a
 * triggering review the webhooks missed (they arrive in any order, or not at all).
 */
async function gatherFeedback(
  c: TaskContext,
  repo: { owner: string; name: string },
  prNumber: number,
  taken: FeedbackJobData[],
): Promise<FeedbackItem[]> {
  const items: FeedbackItem[] = taken.map((f) => ({
    id: f.commentId,
    author: f.author.login,
    kind: f.event === "pull_request_review_comment" ? "inline" : f.event === "pull_request_review" ? "review" : "comment",
    body: f.body,
    path: f.location?.path,
    line: f.location?.line,
    diffHunk: f.location?.diffHunk,
  }));
  const reviewIds = new Set(taken.filter((f) => f.event === "pull_request_review").map((f) => f.commentId));
  if (reviewIds.size === 0) return items;
  const known = new Set(items.map((i) => i.id));
  const listed = await listReviewComments(c.deps.clients.github, { owner: repo.owner, repo: repo.name, pullNumber: prNumber, signal: c.signal });
  for (const rc of listed) {
    if (rc.reviewId !== null && reviewIds.has(rc.reviewId) && !known.has(rc.id)) {
      items.push({ id: rc.id, author: rc.user, kind: "inline", body: rc.body, path: rc.path, line: rc.line, diffHunk: rc.diffHunk });
    }
  }
  return items;
}
