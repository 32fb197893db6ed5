import { openOrUpdatePullRequest } from "../src/github/pull-requests.js";
import { publishGate } from "../src/github/statuses.js";
import { attachPullRequest } from "../src/linear/attachments.js";
import { moveIssue } from "../src/linear/workflow.js";
import { implementedGate } from "../src/status/gate-status.js";
import { prTitle, renderPrBody } from "../src/status/pr-body.js";
import type { Landed } from "../src/tasks/task.js";
import type { ImplementPlan } from "./implement.js";
import type { TaskContext } from "./job-context.js";

/**
 * Publishes pushed work: opens the pull request (a draft, or "[WIP]" where drafts do not exist,
 * when a limit was hit or the checks still fail), records it on the task, links it in Linear, shows
 * the gate (check run or commit status) and moves the issue to In Review. Returns the PR's URL.
 */
export async function publishImplemented(c: TaskContext, plan: ImplementPlan, landed: Landed): Promise<string> {
  const { deps, signal, log } = c;
  const { config } = deps;
  const { issue, repo, branch } = plan;
  const gh = await deps.clients.github.forRepo({ owner: repo.owner, repo: repo.name }, { signal });
  const checksFailed = landed.checks !== null && !landed.checks.passed;
  const draft = Boolean(landed.limitNote) || checksFailed;
  const body = renderPrBody(c.task(), {
    summary: landed.summary,
    model: config.agent.model,
    agentHandle: config.agent.handle,
    limitNote: landed.limitNote,
    checksOutput: checksFailed ? (landed.checks?.output ?? null) : null,
    checkCommand: repo.checkCommand,
    checkInputs: landed.checkInputs,
  });
  if (signal.aborted) throw new Error("the run was stopped");
  const baseBranch = c.task().baseBranch as string;
  const pr = await openOrUpdatePullRequest(gh, { owner: repo.owner, repo: repo.name, branch, base: baseBranch, title: prTitle(issue), body, draft, signal });
  log.info({ pr: pr.number, created: pr.created, readyForReview: pr.readyForReview }, "pull request ready");
  if (pr.draftsUnsupported) log.info(pr.draftsUnsupported);
  if (pr.notReady) log.warn(pr.notReady);
  // The PR is the task's before anything else can fail: its record (and the PR → task key review
  // feedback looks up) and its Linear link stay even when showing the gate fails for good.
  await c.save({
    state: "pr-open",
    step: draft ? "draft pull request open" : null,
    prNumber: pr.number,
    prUrl: pr.url,
    prOpenedAt: c.task().prOpenedAt ?? new Date().toISOString(),
    error: landed.limitNote ?? pr.notReady ?? null,
    finishedAt: new Date().toISOString(),
  });
  const full = `${repo.owner}/${repo.name}`;
  await attachPullRequest(c.linear, { issueId: issue.id, url: pr.url, title: `PR #${pr.number}: ${prTitle(issue)}`, subtitle: full });
  const gate = implementedGate(c.task(), landed, { checkCommand: repo.checkCommand });
  await publishGate(deps.clients.github, { ref: { owner: repo.owner, repo: repo.name }, sha: landed.sha, ...gate, externalId: c.issueId, signal });
  await moveIssue(c.linear, { issueId: issue.id, teamId: issue.team.id, want: { name: "In Review" } });
  await c.publish();
  return pr.url;
}
