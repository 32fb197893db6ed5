import type { DemoIssue } from "./linear-stand-in.js";

// Webhook bodies shaped like the real ones, carrying the fields agent-workforce reads.

const repository = (owner: string, name: string) => ({
  id: 1,
  name,
  full_name: `${owner}/${name}`,
  owner: { login: owner, type: "Organization" },
  html_url: `https://github.com/${owner}/${name}`,
});
const user = (login: string) => ({ login, type: "User", id: 583231 });

/** Linear's Issue update webhook for "the agent label was added". */
export function labelAdded(issue: DemoIssue, team: { id: string; key: string; name: string }, label: { id: string; name: string }) {
  return {
    action: "update",
    type: "Issue",
    createdAt: new Date().toISOString(),
    organizationId: "demo-org",
    webhookId: "demo-webhook",
    webhookTimestamp: Date.now(),
    url: issue.url,
    actor: { id: "demo-user", name: "Ada (demo)", type: "user" },
    updatedFrom: { labelIds: [], updatedAt: new Date(Date.now() - 60_000).toISOString() },
    data: {
      id: issue.id,
      identifier: issue.identifier,
      title: issue.title,
      description: issue.description,
      url: issue.url,
      updatedAt: issue.updatedAt,
      teamId: team.id,
      team,
      labelIds: issue.labelIds,
      labels: [{ ...label, color: "#5e6ad2" }],
      state: { id: issue.stateId, name: "Todo", type: "unstarted", color: "#e2e2e2" },
    },
  };
}

/** GitHub's pull_request_review.submitted with "changes requested". */
export function changesRequested(p: { owner: string; repo: string; pr: number; reviewId: number; reviewer: string; body: string }) {
  return {
    action: "submitted",
    repository: repository(p.owner, p.repo),
    sender: user(p.reviewer),
    pull_request: { number: p.pr, html_url: `https://github.com/${p.owner}/${p.repo}/pull/${p.pr}` },
    review: {
      id: p.reviewId,
      state: "changes_requested",
      body: p.body,
      html_url: `https://github.com/${p.owner}/${p.repo}/pull/${p.pr}#pullrequestreview-${p.reviewId}`,
      user: user(p.reviewer),
      author_association: "MEMBER",
    },
  };
}

/** GitHub's pull_request_review_comment.created for an inline comment of that review. */
export function inlineComment(p: {
  owner: string;
  repo: string;
  pr: number;
  id: number;
  reviewId: number;
  reviewer: string;
  body: string;
  path: string;
  line: number;
  diffHunk: string;
}) {
  return {
    action: "created",
    repository: repository(p.owner, p.repo),
    sender: user(p.reviewer),
    pull_request: { number: p.pr },
    comment: {
      id: p.id,
      body: p.body,
      html_url: `https://github.com/${p.owner}/${p.repo}/pull/${p.pr}#discussion_r${p.id}`,
      user: user(p.reviewer),
      author_association: "MEMBER",
      path: p.path,
      line: p.line,
      diff_hunk: p.diffHunk,
      pull_request_review_id: p.reviewId,
    },
  };
}

/** GitHub's pull_request.closed, merged. */
export function merged(p: { owner: string; repo: string; pr: number; branch: string; by: string }) {
  return {
    action: "closed",
    number: p.pr,
    repository: repository(p.owner, p.repo),
    sender: user(p.by),
    pull_request: {
      number: p.pr,
      merged: true,
      head: { ref: p.branch },
      html_url: `https://github.com/${p.owner}/${p.repo}/pull/${p.pr}`,
      closed_at: new Date().toISOString(),
    },
  };
}

/** Linear's Comment create webhook for a person's comment (a reply when `parentId` is set). */
export function commentCreated(p: {
  comment: { id: string; body: string; createdAt: string; parentId: string | null };
  issue: DemoIssue;
  user: { id: string; name: string };
  team: { id: string; key: string; name: string };
}) {
  return {
    action: "create",
    type: "Comment",
    createdAt: p.comment.createdAt,
    organizationId: "demo-org",
    webhookId: "demo-webhook",
    webhookTimestamp: Date.now(),
    url: `${p.issue.url}#comment-${p.comment.id.slice(0, 8)}`,
    actor: { id: p.user.id, name: p.user.name, type: "user" },
    data: {
      id: p.comment.id,
      body: p.comment.body,
      createdAt: p.comment.createdAt,
      updatedAt: p.comment.createdAt,
      issueId: p.issue.id,
      issue: { id: p.issue.id, identifier: p.issue.identifier, title: p.issue.title, url: p.issue.url, teamId: p.team.id, team: p.team },
      parentId: p.comment.parentId,
      userId: p.user.id,
      user: { id: p.user.id, name: p.user.name, url: "https://linear.app/demo/profiles/ada" },
      reactionData: [],
    },
  };
}
