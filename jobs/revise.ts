import type { Job } from "bullmq";
import { type FeedbackItem, revisionPrompt } from "../src/agent/prompts.js";
import { listReviewComments } from "../src/github/comments.js";
import { getRepository } from "../src/github/repos.js";
import { publishGate, supersedeGate } from "../src/github/statuses.js";
import type { RepoSettings } from "../src/routing/routing-config.js";
import { revisingGate, revisionEndedGate } from "../src/status/gate-status.js";
import type { Landed } from "../src/tasks/task.js";
import { agentJob, type SlotFor } from "./agent-job.js";
import { checkpointOf, type PassResult, runAgentPass } from "./agent-pass.js";
import { unrecoverable } from "./failures.js";
import type { TaskContext, WorkerDeps } from "./job-context.js";
import { pushKeptWork } from "./push-kept.js";
import type { FeedbackJobData, ReviseJobData } from "./queues.js";
import { publishRevision } from "./revise-publish.js";

/** The repository a revision works in, with its routing settings. */
export type ReviseRepo = RepoSettings;

/** The PR heads a running revision showed "in progress" on, for its end path (same process). */
const shownInProgress = new WeakMap<TaskContext, Set<string>>();

/** What a revision works on: its repository and the feedback it took. */
interface RevisePlan {
  repo: ReviseRepo;
  taken: FeedbackJobData[];
}

/** Processor for `revise` jobs: collected review feedback → new commits on the PR branch → answers. */
export function createReviseProcessor(deps: WorkerDeps) {
  const slotOf = (c: TaskContext): SlotFor => {
    const repo = c.task().repo as { owner: string; name: string };
    const full = `${repo.owner}/${repo.name}`;
    return { repo: full, maxAgents: (deps.routing.repos[full.toLowerCase()] ?? deps.routing.defaults).maxAgents };
  };
  return agentJob<ReviseJobData, RevisePlan, { revised: boolean }>(deps, {
    task: async (job) => {
      const task = await deps.tasks.get(job.data.issueId);
      if (!task || !task.repo || !task.prNumber || !task.branch) return null;
      return task.state === "merged" || task.state === "closed" || task.state === "stopped" ? null : task;
    },
    idle: () => ({ revised: false }),
    knownSlot: slotOf,
    prepare: async (c, job) => {
      const taken = await deps.feedback.claim(c.issueId, String(job.id));
      if (taken.length === 0) {
        c.log.info("no feedback waiting; nothing to revise");
        return { done: { revised: false } };
      }
      const { owner, name } = c.task().repo as { owner: string; name: string };
      const settings = deps.routing.repos[`${owner}/${name}`.toLowerCase()] ?? deps.routing.defaults;
      return { slot: slotOf(c), plan: { repo: { ...settings, owner, name }, taken } };
    },
    run: async (c, job, plan) => {
      await revise(c, job, plan.repo, plan.taken);
      await deps.feedback.complete(c.issueId, String(job.id));
      return { revised: true };
    },
    // Feedback a failed or interrupted revision took goes back, so the next run still sees it.
    release: (c, job) => deps.feedback.release(c.issueId, String(job.id)),
    ended: (c, before) => showEndOnPullRequest(c, before.state === "revising"),
  });
}

/**
 * Shows on the PR head that the revision ended without a result: a failure is shown where reviewers
 * look, and the in-progress gate a revision shows when it starts must not stay in progress after a stop.
 * Best effort: the failure is already recorded on the task and in Linear.
 */
async function showEndOnPullRequest(c: TaskContext, wasRevising: boolean): Promise<void> {
  const task = c.task();
  const failed = task.state === "failed";
  if (!task.repo || !task.prNumber || !(failed || (task.state === "stopped" && wasRevising))) return;
  const where = { owner: task.repo.owner, repo: task.repo.name };
  try {
    const gh = await c.deps.clients.github.forRepo(where);
    // Not bound to the job's signal: a stopped job must still be able to say so.
    const { data: pr } = await gh.rest.pulls.get({ ...where, pull_number: task.prNumber });
    await publishGate(c.deps.clients.github, { ref: where, sha: pr.head.sha, ...revisionEndedGate(task), externalId: task.issueId });
    // The revision pushed before it ended: the head it started on must not show a run forever.
    for (const sha of shownInProgress.get(c) ?? []) await supersedeGate(c.deps.clients.github, { ref: where, sha, by: pr.head.sha });
  } catch (err) {
    c.log.warn({ err }, "could not show the end of the revision on the pull request (check run or commit status)");
  }
}

/** The PR head the revision started on: this job's first attempt's, recorded in its data then. */
async function startedOn(job: Job<ReviseJobData>, head: string): Promise<string> {
  const data = job.data;
  if (data.startedOn) return data.startedOn;
  const started: ReviseJobData = { ...job.data, startedOn: head };
  await job.updateData(started);
  return head;
}

async function revise(c: TaskContext, job: Job<ReviseJobData>, repo: ReviseRepo, taken: FeedbackJobData[]): Promise<void> {
  const { deps, signal, log } = c;
  const gh = await deps.clients.github.forRepo({ owner: repo.owner, repo: repo.name }, { signal });
  const task = c.task();
  const prNumber = task.prNumber as number;
  const { data: pr } = await gh.rest.pulls.get({ owner: repo.owner, repo: repo.name, pull_number: prNumber, request: { signal } });
  if (pr.state !== "open") throw unrecoverable(`pull request #${prNumber} is ${pr.merged ? "merged" : "closed"}; nothing to revise`);
  const items = await gatherFeedback(c, repo, prNumber, taken);
  log.info({ items: items.length }, "revision starting");
  const startHead = await startedOn(job, pr.head.sha);
  shownInProgress.set(c, new Set([startHead, pr.head.sha]));

  await c.save({ state: "revising", step: `addressing ${items.length} piece${items.length === 1 ? "" : "s"} of feedback`, error: null });
  await publishGate(deps.clients.github, { ref: { owner: repo.owner, repo: repo.name }, sha: pr.head.sha, ...revisingGate(c.task()), externalId: c.issueId, signal });
  await c.publish();

  const before = { turns: task.turns, usage: task.usage, costUsd: task.costUsd };
  const landed = await revisionPassOnce(c, job, { repo, pr, items });
  await publishRevision(c, { repo, pr, items, taken, landed, startedOn: startHead });
  log.info({ before, after: { turns: c.task().turns, costUsd: c.task().costUsd }, sha: landed.sha }, "revision done");
}

/**
 * Runs the revision's agent pass, or picks up what an earlier attempt of this job pushed: a retry
 * after a failed GitHub call answers the feedback without paying for the agent again.
 */
async function revisionPassOnce(
  c: TaskContext,
  job: Job<ReviseJobData>,
  p: {
    repo: ReviseRepo;
    pr: { html_url: string; base: { ref: string }; head: { sha: string } };
    items: FeedbackItem[];
  },
): Promise<Landed> {
  const jobId = String(job.id);
  const task = c.task();
  const revisionCheckpoint = (r: PassResult, sha: string): Landed => ({
    ...checkpointOf(jobId, r, sha),
    revision: { committed: r.committed, pass: r.pass, replied: [], summaryPosted: false, feedbackIds: p.items.map((i) => i.id) },
  });
  const gh = await c.deps.clients.github.forRepo({ owner: p.repo.owner, repo: p.repo.name }, { signal: c.signal });
  const remote = await getRepository(gh, { owner: p.repo.owner, repo: p.repo.name, signal: c.signal });
  const earlier = task.landed;
  if (earlier?.revision && earlier.pushed === false) {
    const where = { repo: p.repo, cloneUrl: remote.cloneUrl, branch: task.branch as string, baseBranch: p.pr.base.ref, key: jobId };
    const pushed = await pushKeptWork(c, earlier, where);
    // Feedback that came after the kept revision was made still needs the agent; the kept commit
    // is on the branch now, so the agent starts from it.
    const addressed = new Set(earlier.revision.feedbackIds ?? []);
    if (pushed && p.items.every((i) => addressed.has(i.id))) return pushed;
  } else if (earlier?.jobId === jobId && earlier.revision) {
    c.log.info({ sha: earlier.sha }, "this revision already pushed its work; finishing its answers");
    return earlier;
  }
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
    checkpoint: (r, sha) => revisionCheckpoint(r, sha),
  });
  const landed = revisionCheckpoint(result, result.pushedSha ?? result.unpushed?.sha ?? p.pr.head.sha);
  await c.save({ landed });
  if (result.unpushed) throw result.unpushed.error;
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
  const listed = await listReviewComments(await c.deps.clients.github.forRepo({ owner: repo.owner, repo: repo.name }, { signal: c.signal }), { owner: repo.owner, repo: repo.name, pullNumber: prNumber, signal: c.signal });
  for (const rc of listed) {
    if (rc.reviewId !== null && reviewIds.has(rc.reviewId) && !known.has(rc.id)) {
      items.push({ id: rc.id, author: rc.user, kind: "inline", body: rc.body, path: rc.path, line: rc.line, diffHunk: rc.diffHunk });
    }
  }
  return items;
}
