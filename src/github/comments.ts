import type { GitHub } from "./octokit.js";

/** Answers in an inline review thread. */
export async function replyToReviewComment(
  octokit: GitHub,
  p: { owner: string; repo: string; pullNumber: number; commentId: number; body: string; signal?: AbortSignal },
): Promise<void> {
  await octokit.rest.pulls.createReplyForReviewComment({
    owner: p.owner,
    repo: p.repo,
    pull_number: p.pullNumber,
    comment_id: p.commentId,
    body: p.body,
    request: { signal: p.signal },
  });
}

/** Posts a comment on the PR's conversation. */
export async function postPullRequestComment(
  octokit: GitHub,
  p: { owner: string; repo: string; pullNumber: number; body: string; signal?: AbortSignal },
): Promise<void> {
  await octokit.rest.issues.createComment({
    owner: p.owner,
    repo: p.repo,
    issue_number: p.pullNumber,
    body: p.body,
    request: { signal: p.signal },
  });
}

/** Inline comments of one review, to gather a review's comments even if some webhooks were lost. */
export async function listReviewComments(
  octokit: GitHub,
  p: { owner: string; repo: string; pullNumber: number; signal?: AbortSignal },
): Promise<
  Array<{ id: number; body: string; path: string; line: number | null; diffHunk: string; reviewId: number | null; inReplyToId: number | null; user: string; htmlUrl: string }>
> {
  const data = await octokit.paginate(octokit.rest.pulls.listReviewComments, {
    owner: p.owner,
    repo: p.repo,
    pull_number: p.pullNumber,
    per_page: 100,
    request: { signal: p.signal },
  });
  return data.map((c) => ({
    id: c.id,
    body: c.body,
    path: c.path,
    line: c.line ?? c.original_line ?? null,
    diffHunk: c.diff_hunk,
    reviewId: c.pull_request_review_id ?? null,
    inReplyToId: c.in_reply_to_id ?? null,
    user: c.user?.login ?? "ghost",
    htmlUrl: c.html_url,
  }));
}
