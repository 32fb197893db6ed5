import type { Job } from "bullmq";
import { fetchIssueContext } from "../../src/linear/issues.js";
import { routeIssue } from "../../src/routing/route-issue.js";
import { routeOrAsk } from "../../src/routing/route-or-ask.js";
import { sessionAsked, type Task } from "../../src/tasks/task.js";
import { branchForIssue } from "../../src/workspace/index.js";
import { notWanted } from "../implement.js";
import { type TaskContext, taskContext, type WorkerDeps } from "../job-context.js";
import { wakeIssueWaiters } from "../leases.js";
import { type ImplementJobData, safeJobId, type TreeJobData } from "../queues.js";
import { triageGate } from "../triage-gate.js";
import { blockersOf } from "./blockers.js";

/**
 * A tick that also triages one waiting sub-issue. It rides on the lifecycle queue's tick (a worker
 * that does not know the field just ticks), not on the implement queue, whose workers are the agent
 * slots: triage is one short model call and must not delay an agent's start.
 */
export type TriageWaitingData = TreeJobData & { triageWaiting?: { issueId: string; round: number } };

/** The triage round a task is due (1 once the humans answered its questions), as triageGate counts it. */
const dueRound = (t: Task): number => ((t.clarification?.answers.length ?? 0) > 0 ? 1 : 0);

/**
 * Asks for the triage of every sub-issue that waits for its blockers and has no verdict for its
 * round yet, once per sub-issue and round (a stable job id): when its blockers merge, the manager
 * starts it with triage done, so a dependent wave's triage is off the tree's critical path.
 */
export async function queueWaitingTriage(deps: WorkerDeps, parent: Task, waiting: Task[]): Promise<void> {
  if (!deps.config.agent.triage.enabled || parent.plan?.budgetStoppedAt) return;
  for (const t of waiting) {
    const round = dueRound(t);
    if (t.state !== "queued" || t.startedAt || (t.triage && t.triage.round >= round)) continue;
    const data: TriageWaitingData = { kind: "tick", parentIssueId: parent.issueId, reason: `triage ${t.identifier} while it waits`, triageWaiting: { issueId: t.issueId, round } };
    await deps.queues.lifecycle.add("tick", data, { jobId: safeJobId("triage-waiting", t.issueId, round), attempts: 3, backoff: { type: "exponential", delay: 2_000 } });
  }
}

/**
 * Triages a sub-issue while it waits for its blockers: the verdict is recorded on its task (so the
 * run the manager starts later skips triage), a `clarify` asks its question now (humans answer
 * while the blockers run). The task stays `queued` and unstarted, so its parent does not count it
 * begun. Done under the issue's lock: a start that comes meanwhile waits for it, and one already
 * running triages itself (this then does nothing), so a verdict is never paid twice.
 */
export async function triageWhileWaiting(deps: WorkerDeps, issueId: string, signal?: AbortSignal): Promise<string> {
  const jobId = safeJobId("triage-waiting", issueId);
  const lease = await deps.limits.lockIssue(issueId, jobId);
  if (!lease) return "a job of the sub-issue holds it; that job triages";
  // A TaskContext for triage's own helpers; the job is named for logs and the spend record only.
  const job = { id: jobId, queueName: "lifecycle", data: {} } as unknown as Job<ImplementJobData>;
  let c: TaskContext | null = null;
  try {
    const task = await deps.tasks.get(issueId);
    if (!task?.parent || task.state !== "queued" || task.startedAt || (task.triage && task.triage.round >= dueRound(task))) return "nothing to triage";
    if ((await blockersOf(deps, task)).open.length === 0) return "its blockers merged; its start triages it";
    c = taskContext(deps, job, issueId, task, signal);
    return await triageEarly(c, job);
  } finally {
    c?.done();
    await lease.release();
    await wakeIssueWaiters(deps, issueId).catch((err: unknown) => deps.logger.warn({ err, issueId }, "could not wake the jobs waiting for the sub-issue"));
  }
}

/** Reads the issue, routes it as its run would, triages it and puts the waiting step back. */
async function triageEarly(c: TaskContext, job: Job<ImplementJobData>): Promise<string> {
  const task = c.task();
  const issue = await fetchIssueContext(c.linear, { issueId: c.issueId });
  // What its run would refuse or ask (no label, closed, no route, which repository) is left to that run.
  const viaSession = sessionAsked(task);
  if (notWanted(issue, c.deps.config.agentLabel, viaSession)) return "the sub-issue no longer wants an agent; its run says so";
  const routable = { teamKey: issue.team.key, projectName: issue.projectName, labelNames: issue.labelNames };
  const route = viaSession ? routeOrAsk(routable, c.deps.routing, task.repoChoice?.repo ?? null) : routeIssue(routable, c.deps.routing);
  if (!route.ok) return "the sub-issue routes to no repository yet; its run says so";
  const spec = await triageGate(c, job, { issue, repo: route.repo, branch: branchForIssue(issue.identifier) });
  const after = c.task();
  c.log.info({ verdict: after.triage?.verdict, asked: "done" in spec }, "sub-issue triaged while it waits for its blockers");
  // Triage showed its steps; a sub-issue still waiting shows what it waits for again.
  const { open } = await blockersOf(c.deps, after);
  if (after.state === "queued" && !after.startedAt && open.length > 0) {
    await c.save({ step: `waiting for ${open.join(", ")} to merge` });
    await c.publish();
  }
  return `triaged while waiting: ${after.triage?.verdict ?? "no verdict"}`;
}
