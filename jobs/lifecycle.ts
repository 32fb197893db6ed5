import type { Job } from "bullmq";
import { formatUsd } from "../src/agent/pricing.js";
import { postActivity } from "../src/linear/agent-sessions.js";
import { postComment } from "../src/linear/comments.js";
import { moveIssue } from "../src/linear/workflow.js";
import { publishStatus } from "../src/status/publish.js";
import { FINISHED } from "../src/status/rollup.js";
import { isActive, type Task, workspaceOf } from "../src/tasks/task.js";
import { appRevoked } from "./app-revoked.js";
import { queueLinearTick, queueTick } from "./tree/queue-tree.js";
import { stopTree } from "./tree/stop-tree.js";
import { loadChildren } from "./tree/tick.js";
import { runTreeJob } from "./tree/tree-job.js";
import type { WorkerDeps } from "./job-context.js";
import { type CancelJobData, type LifecycleJobData, type PrClosedJobData, safeJobId } from "./queues.js";

const CANCEL_REASON: Record<CancelJobData["reason"], string> = {
  "label-removed": "the agent label was removed",
  "issue-canceled": "the issue was cancelled",
  "issue-completed": "the issue was completed",
  "stop-requested": "someone pressed Stop in the Linear agent session",
  "delegate-removed": "the agent is no longer delegated on the issue",
  "app-revoked": "the Linear app was uninstalled from the workspace",
  "parent-stopped": "its parent issue was stopped",
};

/** Processor for the `lifecycle` queue: stop agents, and follow PRs being merged or closed. */
export function createLifecycleProcessor(deps: WorkerDeps) {
  return async (job: Job<LifecycleJobData>, _token?: string, signal?: AbortSignal): Promise<{ outcome: string }> => {
    const data = job.data;
    if (data.kind === "cancel") return { outcome: await cancel(deps, data) };
    if (data.kind === "app-revoked") return { outcome: await appRevoked(deps, data, (stop) => cancel(deps, stop)) };
    if (data.kind === "pr-closed") return { outcome: await prClosed(deps, data, signal) };
    return { outcome: await runTreeJob(deps, data, signal) };
  };
}

async function cancel(deps: WorkerDeps, data: CancelJobData): Promise<string> {
  const log = deps.logger.child({ issue: data.identifier, lifecycle: "cancel" });
  const reason = CANCEL_REASON[data.reason];
  // Before anything else, and whether or not a task exists yet: a job that has not started has no
  // task, and must neither run later nor keep its place in the queue. The marker stops a job that
  // slips into a worker before it is removed; a running agent is aborted in whichever process runs it.
  await deps.cancellation.cancel(data.issueId, reason);
  const removed = await removeWaitingJobs(deps, data.issueId);
  if (removed.length > 0) log.info({ reason, removed }, "waiting agent jobs removed from their queues");
  const task = await deps.tasks.get(data.issueId);
  if (!task) return removed.length > 0 ? "waiting job removed" : "no agent works on this issue";
  if (task.state === "managing" && (data.reason !== "issue-completed" || (await unfinishedChildren(deps, task)))) return stopParent(deps, task, data, reason);
  // A sub-issue cancelled, completed or un-labelled in Linear: its parent re-reads its tree (the
  // short delay lets this stop land first). An uninstalled app can no longer read that workspace.
  if (task.parent && data.reason !== "app-revoked") await queueLinearTick(deps.queues, task.parent.issueId, `${task.identifier}: ${reason}`);
  // An open PR with no agent running still stops (a failed revision leaves the PR open too):
  // review feedback must not wake the agent again until someone labels the issue again.
  const idle = task.state === "pr-open" || (task.state === "failed" && task.prNumber !== null);
  // A task waiting for an answer is withdrawn: it leaves "Needs you" and its session says so.
  const asking = task.state === "needs-input";
  if (!isActive(task.state) && !idle && !asking) {
    // Linear asks for one response confirming every Stop, even when nothing ran. A run this
    // Stop ended (it finished after the Stop was pressed) has confirmed it already.
    const endedBefore = task.finishedAt !== null && Date.parse(task.finishedAt) < Date.parse(data.eventAt);
    if (data.reason === "stop-requested" && task.session && endedBefore) await confirmIdleStop(deps, task, data);
    return removed.length > 0 ? "waiting job removed" : `nothing running (task is ${task.state})`;
  }
  // A job holding the issue lock records the stop itself when its signal fires; otherwise we do.
  if (await deps.limits.issueHolder(data.issueId)) return "running agent signalled to stop";
  const stopped = await deps.tasks.update(data.issueId, () => ({
    state: "stopped",
    step: null,
    error: idle
      ? `Stopped because ${reason}. The pull request stays open; label the issue again for the agent to take review feedback.`
      : `Stopped because ${reason}${asking ? `, while it waited for ${task.repoQuestion ? "a repository to be chosen" : "an answer"}` : ""}.`,
    ...(asking ? { repoQuestion: null, ...(task.clarification?.open ? { clarification: { ...task.clarification, open: false } } : {}) } : {}),
    finishedAt: new Date().toISOString(),
  }));
  // An uninstalled app can no longer write to that workspace.
  if (data.reason !== "app-revoked") await publishStatus(deps.clients.linear(undefined, workspaceOf(stopped)), { tasks: deps.tasks, task: stopped, agentLabel: deps.config.agentLabel });
  log.info({ reason }, idle ? "agent stopped between revisions" : "queued agent stopped");
  return idle ? "agent stopped between revisions" : "queued agent stopped";
}

/**
 * Whether a managed parent still has a sub-issue to finish. A human completing the parent in
 * Linear then stops the tree; the tick's own completion comes only once every child finished.
 */
async function unfinishedChildren(deps: WorkerDeps, task: Task): Promise<boolean> {
  return (await loadChildren(deps, task)).some((c) => !FINISHED.has(c.phase));
}

/** A managed parent stops with its tree (see stopTree), then shows it. */
async function stopParent(deps: WorkerDeps, task: Task, data: CancelJobData, reason: string): Promise<string> {
  const { parent, stopped } = await stopTree(deps, task, data, reason, (d) => cancel(deps, d));
  if (data.reason !== "app-revoked") {
    await publishStatus(deps.clients.linear(undefined, workspaceOf(parent)), { tasks: deps.tasks, task: parent, agentLabel: deps.config.agentLabel });
    // The roll-up shows the stopped sub-issues (a stopped parent's tick only re-renders it).
    await queueTick(deps.queues, parent.issueId, "parent stopped");
  }
  deps.logger.info({ issue: task.identifier, reason, stopped }, "managed parent stopped with its unfinished sub-issues");
  return `parent stopped with ${stopped.length} sub-issue${stopped.length === 1 ? "" : "s"}`;
}

async function confirmIdleStop(deps: WorkerDeps, task: Task, data: CancelJobData): Promise<void> {
  const session = task.session as NonNullable<Task["session"]>;
  await postActivity(deps.clients.linear(undefined, session.organizationId), {
    sessionId: session.id,
    key: `stop:${data.eventAt}`,
    content: { type: "response", body: `Stopped: nothing was running for ${task.identifier}, and nothing was changed.` },
  });
}

/**
 * Removes the issue's implement and revise jobs that wait (or are delayed) in their queues; only
 * one of each can wait per issue (deduplication), so the dedup key finds it. An active job
 * cannot be removed: the abort reaches it instead. Returns the removed job ids.
 */
async function removeWaitingJobs(deps: WorkerDeps, issueId: string): Promise<string[]> {
  const removed: string[] = [];
  const queues = [
    [deps.queues.implement, safeJobId("implement", issueId)],
    [deps.queues.revise, safeJobId("revise", issueId)],
  ] as const;
  for (const [queue, dedupId] of queues) {
    const jobId = await queue.getDeduplicationJobId(dedupId);
    const job = jobId ? await queue.getJob(jobId) : undefined;
    if (!job || !["waiting", "delayed", "prioritized"].includes(await job.getState())) continue;
    // Removing deletes the dedup key with the job; a job that a worker took meanwhile is locked
    // and stays (the stop marker keeps it from running), and so does its key.
    const gone = await job.remove().then(
      () => true,
      (err: unknown) => {
        deps.logger.debug({ err, jobId }, "a waiting job started before it could be removed");
        return false;
      },
    );
    if (gone) removed.push(`${queue.name}/${jobId}`);
  }
  return removed;
}

async function prClosed(deps: WorkerDeps, data: PrClosedJobData, signal?: AbortSignal): Promise<string> {
  const task = await deps.tasks.findByPullRequest(data.repo.owner, data.repo.name, data.prNumber);
  if (!task) return "not an agent's pull request";
  const log = deps.logger.child({ issue: task.identifier, lifecycle: "pr-closed", merged: data.merged });
  // A retry after the tick could not be queued still asks for it (a tick is idempotent).
  if (task.state === "merged" || (task.state === "closed" && !data.merged)) {
    if (task.parent) await queueTick(deps.queues, task.parent.issueId, `${task.identifier} ${task.state}`);
    return `already ${task.state}`;
  }
  if (isActive(task.state)) await deps.cancellation.cancel(task.issueId, data.merged ? "the pull request was merged" : "the pull request was closed");
  await deps.feedback.discard(task.issueId);
  const linear = deps.clients.linear(signal, workspaceOf(task));
  const teamId = task.teamId;
  const closed = { state: data.merged ? "merged" : "closed", step: null, error: null, finishedAt: new Date().toISOString() } as const;
  // Linear first, the task last: a retry after a failed Linear call must still find the task open
  // (it returns early once the task is merged), or the issue would never reach Done.
  const stateName = teamId
    ? await moveIssue(linear, { issueId: task.issueId, teamId, want: { type: data.merged ? "completed" : "unstarted" } })
    : null;
  await postComment(linear, { issueId: task.issueId, body: closingNote({ ...task, ...closed }, data, stateName) });
  const updated = await deps.tasks.update(task.issueId, () => closed);
  // A merged sub-issue may unblock its siblings; a closed one needs a human (the parent says so).
  if (updated.parent) await queueTick(deps.queues, updated.parent.issueId, `${updated.identifier} ${updated.state}`);
  await publishStatus(linear, { tasks: deps.tasks, task: updated, agentLabel: deps.config.agentLabel });
  log.info("pull request lifecycle recorded");
  return data.merged ? "merged" : "closed";
}

function closingNote(task: Task, data: PrClosedJobData, stateName: string | null): string {
  const pr = `[#${data.prNumber}](${data.htmlUrl})`;
  const cost = `Total agent cost: ${formatUsd(task.costUsd)} over ${task.turns} turns.`;
  return data.merged
    ? `✅ Pull request ${pr} was merged${data.closedBy ? ` by ${data.closedBy}` : ""}. ${cost}`
    : `🚫 Pull request ${pr} was closed without merging${data.closedBy ? ` by ${data.closedBy}` : ""}${stateName ? `; the issue is back in ${stateName}` : ""}. ${cost}`;
}
