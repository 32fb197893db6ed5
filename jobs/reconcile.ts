import type { Job } from "bullmq";
import type { Task } from "../src/tasks/task.js";
import { isActive } from "../src/tasks/task.js";
import { planJob } from "../webhooks/enqueue.js";
import type { Intent } from "../webhooks/intents.js";
import type { WorkerDeps } from "./job-context.js";
import type { ReconcileJobData } from "./queues.js";

/** What one sweep repaired, for logs, tests and the chaos figures. */
export interface ReconcileReport {
  labelledWithoutTask: string[];
  missedPrCloses: string[];
  stuckTasks: string[];
  /** What could not be checked this time (a repository gone, Linear down); the next sweep tries again. */
  errors: string[];
}

const LABELLED_ISSUES = /* GraphQL */ `
  query AgentLabelledIssues($label: String!, $after: String) {
    issues(
      first: 100
      after: $after
      filter: { labels: { name: { eqIgnoreCase: $label } }, state: { type: { nin: ["completed", "canceled"] } } }
    ) {
      nodes { id identifier title url updatedAt team { id key } project { name } labels { nodes { name } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

interface LabelledIssue {
  id: string;
  identifier: string;
  title: string;
  url: string;
  updatedAt: string;
  team: { id: string; key: string };
  project: { name: string } | null;
  labels: { nodes: Array<{ name: string }> };
}

/**
 * Processor of the periodic reconcile job. GitHub never redelivers a failed webhook by itself and
 * Linear retries only three times, so the sweep repairs what was missed. Every repair goes
 * through the same job ids as the webhooks, so a late delivery and a repair collapse into one.
 */
export function createReconcileProcessor(deps: WorkerDeps) {
  return async (job: Job<ReconcileJobData>, _token?: string, signal?: AbortSignal): Promise<ReconcileReport> => {
    const log = deps.logger.child({ jobId: job.id, queue: job.queueName });
    const report: ReconcileReport = { labelledWithoutTask: [], missedPrCloses: [], stuckTasks: [], errors: [] };
    const now = new Date().toISOString();
    const ctx = { delivery: `reconcile-${job.id}`, receivedAt: now };
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

    let labelled: LabelledIssue[] = [];
    await attempt("Linear issues with the agent label", async () => {
      labelled = await labelledIssues(deps, signal);
    });
    for (const issue of labelled) {
      if (await deps.tasks.get(issue.id)) continue;
      await enqueue(deps, {
        kind: "implement",
        data: {
          kind: "implement",
          issueId: issue.id,
          identifier: issue.identifier,
          title: issue.title,
          teamId: issue.team.id,
          teamKey: issue.team.key,
          projectName: issue.project?.name ?? null,
          labelNames: issue.labels.nodes.map((l) => l.name),
          url: issue.url,
          eventAt: issue.updatedAt,
          source: { ...ctx, actor: null },
        },
      });
      report.labelledWithoutTask.push(issue.identifier);
    }

    for (const task of await deps.tasks.list(1000)) {
      if ((task.state === "pr-open" || task.state === "revising") && task.repo && task.prNumber) {
        await attempt(`${task.identifier} (${task.repo.owner}/${task.repo.name}#${task.prNumber})`, async () => {
          if (await repairMissedClose(deps, task, ctx, signal)) report.missedPrCloses.push(task.identifier);
        });
      } else if (isActive(task.state) && (await isStuck(deps, task))) {
        await enqueue(deps, {
          kind: "implement",
          data: {
            kind: "implement",
            issueId: task.issueId,
            identifier: task.identifier,
            title: task.title,
            teamId: task.teamId,
            teamKey: null,
            projectName: null,
            labelNames: [],
            url: task.issueUrl,
            // One repair per stuck attempt: the id derives from when that attempt started.
            eventAt: task.startedAt ?? task.updatedAt,
            source: { ...ctx, actor: null },
          },
          jobIdSuffix: "repair",
        });
        report.stuckTasks.push(task.identifier);
      }
    }
    if (report.labelledWithoutTask.length + report.missedPrCloses.length + report.stuckTasks.length + report.errors.length > 0) {
      log.info(report, "reconciler repaired missed events");
    }
    return report;
  };
}

async function labelledIssues(deps: WorkerDeps, signal?: AbortSignal): Promise<LabelledIssue[]> {
  const linear = deps.clients.linear(signal);
  const out: LabelledIssue[] = [];
  let after: string | null = null;
  for (let page = 0; page < 20; page++) {
    const res: { data?: { issues: { nodes: LabelledIssue[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } } =
      await linear.client.rawRequest(LABELLED_ISSUES, { label: deps.config.agentLabel, after });
    const issues = res.data?.issues;
    if (!issues) break;
    out.push(...issues.nodes);
    if (!issues.pageInfo.hasNextPage) break;
    after = issues.pageInfo.endCursor;
  }
  return out;
}

async function repairMissedClose(
  deps: WorkerDeps,
  task: Task,
  ctx: { delivery: string; receivedAt: string },
  signal?: AbortSignal,
): Promise<boolean> {
  const repo = task.repo as { owner: string; name: string };
  const { data: pr } = await deps.clients.github.rest.pulls.get({
    owner: repo.owner,
    repo: repo.name,
    pull_number: task.prNumber as number,
    request: { signal },
  });
  if (pr.state !== "closed") return false;
  await enqueue(deps, {
    kind: "pr-closed",
    data: {
      kind: "pr-closed",
      repo,
      prNumber: pr.number,
      merged: Boolean(pr.merged_at),
      headRef: pr.head.ref,
      htmlUrl: pr.html_url,
      closedAt: pr.closed_at ?? ctx.receivedAt,
      closedBy: pr.merged_by?.login ?? null,
      source: ctx,
    },
  });
  return true;
}

// A task that claims an agent is queued or working, while no job for it exists or runs and no
// worker holds its lock, lost its job (a crash past the retry limit, or a wiped queue).
async function isStuck(deps: WorkerDeps, task: Task): Promise<boolean> {
  if (await deps.limits.issueHolder(task.issueId)) return false;
  for (const queue of [deps.queues.implement, deps.queues.revise]) {
    const job = task.jobId ? await queue.getJob(task.jobId) : undefined;
    if (job && ["waiting", "active", "delayed", "prioritized"].includes(await job.getState())) return false;
  }
  // Give a job that was just added time to start before calling it lost.
  return Date.now() - Date.parse(task.updatedAt) > 2 * deps.config.jobs.lockMs;
}

async function enqueue(deps: WorkerDeps, intent: Intent & { jobIdSuffix?: string }): Promise<void> {
  const plan = planJob(intent);
  const jobId = intent.jobIdSuffix ? `${plan.jobId}-${intent.jobIdSuffix}` : plan.jobId;
  const queue = deps.queues[plan.queue] as unknown as { add(n: string, d: unknown, o: object): Promise<unknown> };
  await queue.add(plan.name, intent.data, { ...plan.opts, jobId });
}
