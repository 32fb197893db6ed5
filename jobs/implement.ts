import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type { LinearClient } from "@linear/sdk";
import { type Job, UnrecoverableError } from "bullmq";
import { readConventions } from "../src/agent/conventions.js";
import { issuePrompt, systemPrompt } from "../src/agent/prompts.js";
import { runWithChecks } from "../src/agent/run-with-checks.js";
import type { Clients, Deps } from "../src/deps.js";
import { openOrUpdatePullRequest } from "../src/github/pull-requests.js";
import { getRepository } from "../src/github/repos.js";
import { attachPullRequest } from "../src/linear/attachments.js";
import { postComment } from "../src/linear/comments.js";
import { fetchIssueContext, type IssueContext } from "../src/linear/issues.js";
import { moveIssue } from "../src/linear/workflow.js";
import { routeIssue } from "../src/routing/route-issue.js";
import type { RepoSettings } from "../src/routing/routing-config.js";
import { prTitle, renderPrBody } from "../src/status/pr-body.js";
import { publishProgress, throttle } from "../src/status/publish.js";
import type { Task } from "../src/tasks/task.js";
import { branchForIssue } from "../src/workspace/index.js";
import { classifyFailure, type Failure } from "./failures.js";
import type { ImplementJobData } from "./queues.js";

export type WorkerDeps = Deps & { clients: Clients };

/** Seconds between progress-comment edits while an agent works: status stays live, API calls few. */
const PROGRESS_INTERVAL_MS = 15_000;

/** Processor for `implement` jobs: Linear issue → agent run in a worktree → checks → branch → PR. */
export function createImplementProcessor(deps: WorkerDeps) {
  return async (
    job: Job<ImplementJobData>,
    _token?: string,
    signal?: AbortSignal,
  ): Promise<{ prUrl: string | null }> => {
    const ctrl = signal ?? new AbortController().signal;
    const log = deps.logger.child({ jobId: job.id, issue: job.data.identifier });
    const linear = deps.clients.linear(ctrl);
    const { tasks, config } = deps;
    const data = job.data;

    await tasks.ensure({
      issueId: data.issueId,
      identifier: data.identifier,
      title: data.title,
      issueUrl: data.url,
    });
    let task = await tasks.update(data.issueId, (t) => ({
      state: "working",
      step: "reading the issue",
      attempts: job.attemptsMade === 0 ? t.attempts + 1 : t.attempts,
      jobId: job.id ?? null,
      error: null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
    }));
    const save = async (patch: Partial<Task>) => {
      task = await tasks.update(data.issueId, () => patch);
      return task;
    };
    const publish = async () => {
      task = await publishProgress(linear, { tasks, task, agentLabel: config.agentLabel });
    };

    try {
      await publish();
      const issue = await fetchIssueContext(linear, { issueId: data.issueId }).catch((err: unknown) => {
        throw new UnrecoverableError(
          `cannot read Linear issue ${data.identifier}: ${(err as Error).message}`,
        );
      });
      await save({ title: issue.title, issueUrl: issue.url, teamId: issue.team.id });
      await moveIssue(linear, {
        issueId: issue.id,
        teamId: issue.team.id,
        currentStateId: issue.state.id,
        want: { type: "started" },
      });

      const route = routeIssue(
        { teamKey: issue.team.key, projectName: issue.projectName, labelNames: issue.labelNames },
        deps.routing,
      );
      if (!route.ok) {
        await postComment(linear, { issueId: issue.id, body: `🤖 ${route.reason}` });
        await save({
          state: "failed",
          step: null,
          error: route.reason,
          finishedAt: new Date().toISOString(),
        });
        await publish();
        log.warn({ reason: route.reason }, "issue routes to no repository");
        return { prUrl: null };
      }
      return await implementInRepo({
        deps,
        job,
        log,
        linear,
        issue,
        repo: route.repo,
        ctrl,
        save,
        publish,
        get: () => task,
      });
    } catch (err) {
      const failure = classifyFailure(err, job, ctrl);
      await recordFailure({ deps, linear, failure, save, publish, log });
      if (failure.retry) throw err;
      throw new UnrecoverableError(failure.message);
    }
  };
}

interface RunContext {
  deps: WorkerDeps;
  job: Job<ImplementJobData>;
  log: Deps["logger"];
  linear: LinearClient;
  issue: IssueContext;
  repo: RepoSettings;
  ctrl: AbortSignal;
  save(patch: Partial<Task>): Promise<Task>;
  publish(): Promise<void>;
  get(): Task;
}

async function implementInRepo(c: RunContext): Promise<{ prUrl: string | null }> {
  const { deps, issue, repo, ctrl, log } = c;
  const { config } = deps;
  const gh = deps.clients.github;
  const remote = await getRepository(gh, { owner: repo.owner, repo: repo.name, signal: ctrl });
  const baseBranch = repo.baseBranch ?? remote.defaultBranch;
  const branch = branchForIssue(issue.identifier);
  await c.save({
    repo: { owner: repo.owner, name: repo.name },
    branch,
    baseBranch,
    step: "preparing the workspace",
  });
  await c.publish();

  const key = String(c.job.id ?? `${issue.identifier}-${Date.now()}`);
  const worktree = await deps.workspace.createWorktree({
    repo,
    cloneUrl: remote.cloneUrl,
    token: config.github.token,
    key,
    branch,
    baseBranch,
    signal: ctrl,
  });
  const home = path.join(config.dataDir, "homes", key.replace(/[^A-Za-z0-9._-]/g, "_"));
  await mkdir(home, { recursive: true });
  const env = { ...config.childEnv, HOME: home, CI: "1", GIT_TERMINAL_PROMPT: "0", GIT_EDITOR: "true" };
  const session = deps.clients.runner.startSession({
    worktree: worktree.path,
    system: systemPrompt({
      repo: `${repo.owner}/${repo.name}`,
      branch,
      checkCommand: repo.checkCommand,
      conventions: await readConventions(worktree.path),
    }),
    env,
    limits: { maxTurns: config.agent.maxTurns, budgetUsd: config.agent.budgetUsd },
    signal: ctrl,
    onTurn: async (t) => {
      const totals = session.totals();
      log.info({ turn: t.turn, usage: t.usage, costUsd: t.costUsd, tools: t.tools }, "agent turn");
      await c.save({
        turns: totals.turns,
        usage: totals.usage,
        costUsd: totals.costUsd,
        step: `turn ${t.turn}`,
      });
      progress.poke();
    },
  });
  const progress = throttle(PROGRESS_INTERVAL_MS, () => c.publish());

  try {
    await c.save({ step: "agent working" });
    await c.publish();
    const gated = await runWithChecks({
      session,
      firstMessage: issuePrompt(issue),
      checkCommand: repo.checkCommand,
      rounds: config.agent.checkRounds,
      cwd: worktree.path,
      env,
      checkTimeoutMs: config.agent.checkTimeoutMs,
      signal: ctrl,
      onChecks: async (phase, result) => {
        if (phase === "start") await c.save({ state: "checking", step: `running \`${repo.checkCommand}\`` });
        else if (result) {
          const summary = result.passed
            ? "passed"
            : result.timedOut
              ? "timed out"
              : `failed (exit ${result.exitCode})`;
          await c.save({
            state: "working",
            step: null,
            checks: { command: result.command, passed: result.passed, summary },
          });
        }
        await c.publish();
      },
    });
    await progress.flush();
    if (gated.outcome.stop === "aborted" || ctrl.aborted) throw new Error("the job was cancelled");

    const totals = session.totals();
    await c.save({
      turns: totals.turns,
      usage: totals.usage,
      costUsd: totals.costUsd,
      handoff: gated.outcome.finalText || null,
    });
    await worktree.commitAll({
      message: `${issue.identifier}: ${issue.title}\n\nImplemented by agent-workforce for ${issue.url}`,
      author: { name: config.agent.gitName, email: config.agent.gitEmail },
      signal: ctrl,
    });
    if ((await worktree.commitsAhead()).length === 0) {
      const why = gated.limitNote ?? "The agent finished without changing any file.";
      throw new UnrecoverableError(`${why} No pull request was opened.`);
    }
    await c.save({ step: "pushing the branch" });
    const pushed = await worktree.push({ token: config.github.token, signal: ctrl });
    log.info({ sha: pushed.sha, pushed: pushed.pushed }, "branch pushed");

    const draft = Boolean(gated.limitNote) || (gated.checks !== null && !gated.checks.passed);
    const body = renderPrBody(c.get(), {
      summary: gated.outcome.finalText,
      model: config.agent.model,
      agentHandle: "@agent",
      limitNote: gated.limitNote,
      checksOutput: gated.checks && !gated.checks.passed ? gated.checks.output.slice(-4000) : null,
    });
    const pr = await openOrUpdatePullRequest(deps.clients.github, {
      owner: repo.owner,
      repo: repo.name,
      branch,
      base: baseBranch,
      title: prTitle(issue),
      body,
      draft,
      signal: ctrl,
    });
    log.info({ pr: pr.number, created: pr.created, draft }, "pull request ready");
    await c.save({
      state: "pr-open",
      step: draft ? "draft pull request open" : null,
      prNumber: pr.number,
      prUrl: pr.url,
      prOpenedAt: c.get().prOpenedAt ?? new Date().toISOString(),
      error: gated.limitNote,
      finishedAt: new Date().toISOString(),
    });
    await attachPullRequest(c.linear, {
      issueId: issue.id,
      url: pr.url,
      title: `PR #${pr.number}: ${prTitle(issue)}`,
      subtitle: `${repo.owner}/${repo.name}`,
    });
    await moveIssue(c.linear, { issueId: issue.id, teamId: issue.team.id, want: { name: "In Review" } });
    await c.publish();
    return { prUrl: pr.url };
  } finally {
    await session.close();
    await worktree.remove();
    await rm(home, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function recordFailure(p: {
  deps: WorkerDeps;
  linear: LinearClient;
  failure: Failure;
  save(patch: Partial<Task>): Promise<Task>;
  publish(): Promise<void>;
  log: Deps["logger"];
}): Promise<void> {
  const { failure } = p;
  p.log.error({ err: failure.cause, retry: failure.retry }, `implement failed: ${failure.message}`);
  try {
    if (failure.retry) await p.save({ step: `retrying after: ${failure.message}` });
    else
      await p.save({
        state: failure.cancelled ? "stopped" : "failed",
        step: null,
        error: failure.message,
        finishedAt: new Date().toISOString(),
      });
    await p.publish();
  } catch (err) {
    p.log.warn({ err }, "could not record the failure on the task or Linear");
  }
}
