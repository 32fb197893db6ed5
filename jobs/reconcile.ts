import type { Job } from "bullmq";
import { publishStatus } from "../src/status/publish.js";
import type { Task } from "../src/tasks/task.js";
import { isActive, workspaceOf } from "../src/tasks/task.js";
import type { TaskStore } from "../src/tasks/task-store.js";
import { planJob } from "../webhooks/enqueue.js";
import type { Intent } from "../webhooks/intents.js";
import type { WorkerDeps } from "./job-context.js";
import { implementFromTask, type ReconcileJobData } from "./queues.js";
import { queueCreatePlan, queueLinearTick } from "./tree/queue-tree.js";
import { waitsOnTree } from "./tree/tree-store.js";
import { type LabelledIssue, type LabelSource, labelledWithoutTask } from "./reconcile-labelled.js";
import { findMissedCloses, type WatchedRepo, watchedRepos } from "./reconcile-pulls.js";

/** What one sweep repaired, for logs, tests and the chaos figures. */
export interface ReconcileReport {
  labelledWithoutTask: string[];
  /** Labelled without a task since before the install, left alone (RECONCILE_ADOPT_EXISTING=false). */
  notAdopted: string[];
  missedPrCloses: string[];
  stuckTasks: string[];
  /** Tasks waiting in `needs-input` whose repository question had never reached their session: asked again. */
  unaskedQuestions: string[];
  /** What could not be checked this time (a repository gone, Linear down); the next sweep tries again. */
  errors: string[];
}

type Source = { delivery: string; receivedAt: string };

/**
 * Processor of the periodic reconcile job. GitHub never redelivers a failed webhook by itself and
 * Linear retries only three times, so the sweep repairs what was missed. Every repair goes
 * through the same job ids as the webhooks, so a late delivery and a repair collapse into one.
 */
export function createReconcileProcessor(deps: WorkerDeps) {
  return async (job: Job<ReconcileJobData>, _token?: string, signal?: AbortSignal): Promise<ReconcileReport> => {
    const log = deps.logger.child({ jobId: job.id, queue: job.queueName });
    const report: ReconcileReport = { labelledWithoutTask: [], notAdopted: [], missedPrCloses: [], stuckTasks: [], unaskedQuestions: [], errors: [] };
    const source: Source = { delivery: `reconcile-${job.id}`, receivedAt: new Date().toISOString() };
    // One broken item (a deleted repository, a token that lost access) must not stop the sweep:
    // it is the only backstop for missed webhooks, so it reports the item and repairs the rest.
    const attempt = async (what: string, step: () => Promise<void>) => {
      try {
        await step();
      } catch (err) {
        if (signal?.aborted) throw err;
        report.errors.push(`${what}: ${(err as Error).message}`);
        log.warn({ err: (err as Error).message, item: what }, "reconciler could not check an item; the next sweep tries again");
      }
    };

    await attempt("Linear issues with the agent label", () => repairLabelled(deps, report, source, signal));
    const tasks = await everyTask(deps.tasks);
    for (const watched of watchedRepos(tasks).values()) {
      await attempt(describe(watched), async () => {
        const p = { github: await deps.clients.github.forRepo({ owner: watched.repo.owner, repo: watched.repo.name }, { signal }), redis: deps.redis, prefix: deps.config.redisPrefix, watched, signal };
        for (const missed of await findMissedCloses(p)) {
          await enqueue(deps, { kind: "pr-closed", data: { ...missed.data, source } });
          report.missedPrCloses.push(missed.task.identifier);
        }
      });
    }
    const workspaces = (await deps.linearApp?.installations())?.length ?? 0;
    // A revising task is watched through its PR above, and its repair would be a revision, not an
    // implement job.
    for (const task of tasks) {
      if (!isActive(task.state) || task.state === "revising" || !(await isStuck(deps, task))) continue;
      if (workspaces > 1 && !workspaceOf(task)) {
        // Its job could not tell which workspace's token to use and would fail on every retry.
        report.errors.push(`${task.identifier}: not restarted: the task predates workspace tracking and the Linear app is installed in ${workspaces} workspaces; re-add the agent label or delegate the issue again to restart it`);
        continue;
      }
      await enqueue(deps, { ...implementIntent(task, source), jobIdSuffix: "repair" });
      report.stuckTasks.push(task.identifier);
    }
    // A parent's tree follows its children's records and Linear: a missed webhook or a lost tick
    // is caught here (sub-issues a human added, removed or cancelled, a child that changed).
    for (const task of tasks) {
      if (task.state !== "managing" || !task.plan) continue;
      const { status, proposedAt } = task.plan;
      if (status === "created") await attempt(`${task.identifier}: its sub-issues`, () => queueLinearTick(deps.queues, task.issueId, "reconcile"));
      // An approved plan whose creation job was lost or gave up: its job again (one per plan; a
      // running or waiting one is left alone, and creation is idempotent).
      if (status === "creating") await attempt(`${task.identifier}: creating its sub-issues`, () => queueCreatePlan(deps.queues, task.issueId, proposedAt));
    }
    for (const task of tasks) {
      if (!(await questionUnshown(deps, task))) continue;
      await attempt(`${task.identifier}: its repository question`, async () => {
        const linear = deps.clients.linear(signal, workspaceOf(task));
        await publishStatus(linear, { tasks: deps.tasks, task, agentLabel: deps.config.agentLabel, publicUrl: deps.config.publicUrl });
        report.unaskedQuestions.push(task.identifier);
      });
    }
    if (report.labelledWithoutTask.length + report.missedPrCloses.length + report.stuckTasks.length + report.unaskedQuestions.length + report.errors.length > 0) {
      log.info(report, "reconciler repaired missed events");
    }
    return report;
  };
}

async function repairLabelled(deps: WorkerDeps, report: ReconcileReport, source: Source, signal?: AbortSignal): Promise<void> {
  const orphans = await labelledWithoutTask({
    sources: await labelSources(deps, signal),
    redis: deps.redis,
    prefix: deps.config.redisPrefix,
    tasks: deps.tasks,
    label: deps.config.agentLabel,
    adoptExisting: deps.config.jobs.reconcileAdoptExisting,
  });
  for (const issue of orphans.start) {
    await enqueue(deps, { kind: "implement", data: labelledIntentData(issue, source) });
    report.labelledWithoutTask.push(issue.identifier);
  }
  report.notAdopted = orphans.notAdopted.map((i) => i.identifier);
  if (orphans.firstSweep && orphans.notAdopted.length > 0) {
    deps.logger.info(
      { issues: report.notAdopted },
      "first sweep: these issues carried the agent label before agent-workforce was installed and are left alone; " +
        "re-add the label to start one, or set RECONCILE_ADOPT_EXISTING=true to start them all",
    );
  }
}

// The OAuth app reads each installed workspace with its own token (a client naming no workspace
// is refused once there are several); an API key, or an app nobody installed yet, reads once.
async function labelSources(deps: WorkerDeps, signal?: AbortSignal): Promise<LabelSource[]> {
  const installed = (await deps.linearApp?.installations()) ?? [];
  if (installed.length === 0) return [{ linear: deps.clients.linear(signal) }];
  return installed.map((i) => ({ linear: deps.clients.linear(signal, i.organizationId), organizationId: i.organizationId }));
}

// Names a repository and a few of its watched PRs for the operator; a busy one has hundreds.
function describe({ repo, prs }: WatchedRepo): string {
  const named = [...prs].slice(0, 5).map(([n, t]) => `${t.identifier} #${n}`);
  const more = prs.size > named.length ? ` and ${prs.size - named.length} more` : "";
  return `${repo.owner}/${repo.name} (${named.join(", ")}${more})`;
}

// Every task that is not finished, read a page at a time: a sweep that stopped at a fixed count
// would never see the oldest tasks, which are the likeliest to have missed an event, and merged or
// closed ones (most of them, in time) need no look.
async function everyTask(tasks: TaskStore): Promise<Task[]> {
  const open: Task[] = [];
  for await (const page of tasks.pages()) open.push(...page.filter((t) => t.state !== "merged" && t.state !== "closed"));
  return open;
}

function labelledIntentData(issue: LabelledIssue, source: Source) {
  return {
    kind: "implement" as const,
    issueId: issue.id,
    identifier: issue.identifier,
    title: issue.title,
    teamId: issue.team.id,
    teamKey: issue.team.key,
    projectName: issue.project?.name ?? null,
    labelNames: issue.labels.nodes.map((l) => l.name),
    url: issue.url,
    eventAt: issue.updatedAt,
    source: { ...source, actor: null },
    // The task records its workspace, so its job uses that workspace's token.
    ...(issue.organizationId ? { organizationId: issue.organizationId } : {}),
  };
}

// No session context in the data: the processor reads a session task's session from its record
// (its status goes there, and the session rather than a label is its switch). Linear's prompt
// context is not on the record, so a repaired attempt starts from the issue itself.
function implementIntent(task: Task, source: Source): Intent {
  // One repair per stuck attempt: the id derives from when that attempt started.
  return { kind: "implement", data: implementFromTask(task, { eventAt: task.startedAt ?? task.updatedAt, source: { ...source, actor: null } }) };
}

// A task that claims an agent is queued or working, while no job for it exists or runs and no
// worker holds its lock, lost its job (a crash past the retry limit, or a wiped queue).
async function isStuck(deps: WorkerDeps, task: Task): Promise<boolean> {
  // A sub-issue waiting for its blockers or the tree budget has no job on purpose: the tick starts it.
  if (waitsOnTree(task)) return false;
  if (await deps.limits.issueHolder(task.issueId)) return false;
  for (const queue of [deps.queues.implement, deps.queues.revise]) {
    const job = task.jobId ? await queue.getJob(task.jobId) : undefined;
    if (job && ["waiting", "active", "delayed", "prioritized"].includes(await job.getState())) return false;
  }
  // Give a job that was just added time to start before calling it lost.
  return Date.now() - Date.parse(task.updatedAt) > 2 * deps.config.jobs.lockMs;
}

// A task waiting for a repository choice whose elicitation its session does not show (every
// attempt of the asking job failed to publish it): nobody is asked, so it would wait forever. The
// asking job must be over (not queued, running or retrying) so the two never publish at once.
async function questionUnshown(deps: WorkerDeps, task: Task): Promise<boolean> {
  const q = task.repoQuestion;
  if (task.state !== "needs-input" || !q || !task.session) return false;
  const shown = task.sessionShown;
  if (shown?.sessionId === task.session.id && shown.ended === `ask-repo:${q.key}`) return false;
  if (await deps.limits.issueHolder(task.issueId)) return false;
  const job = task.jobId ? await deps.queues.implement.getJob(task.jobId) : undefined;
  if (job && ["waiting", "active", "delayed", "prioritized"].includes(await job.getState())) return false;
  return Date.now() - Date.parse(task.updatedAt) > 2 * deps.config.jobs.lockMs;
}

async function enqueue(deps: WorkerDeps, intent: Intent & { jobIdSuffix?: string }): Promise<void> {
  const plan = planJob(intent);
  const jobId = intent.jobIdSuffix ? `${plan.jobId}-${intent.jobIdSuffix}` : plan.jobId;
  const queue = deps.queues[plan.queue] as unknown as { add(n: string, d: unknown, o: object): Promise<unknown> };
  await queue.add(plan.name, intent.data, { ...plan.opts, jobId });
}
