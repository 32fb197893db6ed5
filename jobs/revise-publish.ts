import { type FeedbackItem, parseReplies, withoutReplies } from "../src/agent/prompts.js";
import { formatUsd } from "../src/agent/pricing.js";
import { postPullRequestComment, replyToReviewComment } from "../src/github/comments.js";
import { openOrUpdatePullRequest } from "../src/github/pull-requests.js";
import { publishGate, supersedeGate } from "../src/github/statuses.js";
import { usageLine } from "../src/status/format.js";
import { revisedGate } from "../src/status/gate-status.js";
import { keepCriteria, prTitle, renderPrBody } from "../src/status/pr-body.js";
import type { Landed } from "../src/tasks/task.js";
import type { TaskContext } from "./job-context.js";
import type { FeedbackJobData } from "./queues.js";
import type { ReviseRepo } from "./revise.js";

type Revision = NonNullable<Landed["revision"]>;

/**
 * Publishes a pushed revision: answers each review thread and posts one summary (each recorded on
 * the checkpoint as it is posted, so a retry never repeats one), then updates the PR body, the
 * gate on the new head (and completes the runs on the heads the revision started on) and the Linear comment.
 */
export async function publishRevision(
  c: TaskContext,
  p: {
    repo: ReviseRepo;
    pr: { base: { ref: string }; head: { sha: string } };
    items: FeedbackItem[];
    taken: FeedbackJobData[];
    landed: Landed;
    /** The head the revision's first attempt started on (a retry's PR head may be its push). */
    startedOn: string;
  },
): Promise<void> {
  const { deps, signal } = c;
  const { repo, landed } = p;
  const gh = await deps.clients.github.forRepo({ owner: repo.owner, repo: repo.name }, { signal });
  const task = c.task();
  const prNumber = task.prNumber as number;
  const revision = landed.revision as Revision;
  const replies = parseReplies(landed.summary);
  const summary = withoutReplies(landed.summary);
  const head = landed.sha;
  const checksFailed = landed.checks !== null && !landed.checks.passed;
  const note = async (patch: Partial<Revision>) => {
    Object.assign(revision, patch);
    await c.save({ landed: { ...landed, revision: { ...revision } } });
  };
  for (const item of p.items.filter((i) => i.kind === "inline" && !revision.replied.includes(i.id))) {
    const answer = replies.get(item.id) ?? `Addressed in ${head.slice(0, 7)}.`;
    const root = p.taken.find((t) => t.commentId === item.id)?.location?.inReplyToId ?? item.id;
    await replyToReviewComment(gh, { owner: repo.owner, repo: repo.name, pullNumber: prNumber, commentId: root, body: answer, signal });
    await note({ replied: [...revision.replied, item.id] });
  }
  if (!revision.summaryPosted) {
    const general = p.items.filter((i) => i.kind !== "inline").map((i) => replies.get(i.id)).filter((r): r is string => Boolean(r));
    await postPullRequestComment(gh, { owner: repo.owner, repo: repo.name, pullNumber: prNumber, body: summaryComment(c, { revision, head, summary, general, landed, checksFailed }), signal });
    await note({ summaryPosted: true });
  }
  await c.save({
    handoff: keepCriteria(landed.summary, task.handoff),
    state: "pr-open",
    step: null,
    revisions: (c.task().revisions ?? 0) + 1,
    finishedAt: new Date().toISOString(),
    error: landed.limitNote,
  });
  const body = renderPrBody(c.task(), {
    summary,
    model: deps.config.agent.model,
    agentHandle: deps.config.agent.handle,
    limitNote: landed.limitNote,
    checksOutput: checksFailed ? (landed.checks?.output ?? null) : null,
    checkCommand: repo.checkCommand,
    checkInputs: landed.checkInputs,
  });
  const branch = task.branch as string;
  const updated = await openOrUpdatePullRequest(gh, { owner: repo.owner, repo: repo.name, branch, base: p.pr.base.ref, title: prTitle(task), body, draft: checksFailed, signal });
  if (updated.notReady) c.log.warn(updated.notReady);
  if (updated.draftsUnsupported) c.log.info(updated.draftsUnsupported);
  const ref = { owner: repo.owner, repo: repo.name };
  await publishGate(deps.clients.github, { ref, sha: head, ...revisedGate(c.task(), landed, { checkCommand: repo.checkCommand }), externalId: c.issueId, signal });
  // Both heads may show "in progress": the one the revision started on, and this attempt's.
  for (const sha of new Set([p.startedOn, p.pr.head.sha])) await supersedeGate(deps.clients.github, { ref, sha, by: head, signal });
  await c.publish();
}

function summaryComment(
  c: TaskContext,
  p: { revision: Revision; head: string; summary: string; general: string[]; landed: Landed; checksFailed: boolean },
): string {
  return [
    p.revision.committed ? `🤖 Revision pushed in ${p.head.slice(0, 7)}.` : "🤖 No code changes were needed for this feedback.",
    "",
    p.summary || "_The agent did not write a summary._",
    ...(p.general.length ? ["", ...p.general.map((g) => `- ${g}`)] : []),
    "",
    p.landed.checks ? `Checks: \`${p.landed.checks.command}\` ${p.checksFailed ? "still fail" : "passed"}.` : "",
    `This revision: ${usageLine(p.revision.pass)}. Total so far: ${formatUsd(c.task().costUsd)}.`,
  ]
    .filter((l, i, all) => l !== "" || all[i - 1] !== "")
    .join("\n");
}

