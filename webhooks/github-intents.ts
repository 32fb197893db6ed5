import type { EmitterWebhookEvent } from "@octokit/webhooks";
import type { FeedbackJobData, RepoRef } from "../jobs/queues.js";
import { type Decision, type DeliveryContext, ignore } from "./intents.js";
import { checkShape, GITHUB_SHAPES } from "./payload-shapes.js";

type IssueCommentCreated = EmitterWebhookEvent<"issue_comment.created">["payload"];
type ReviewSubmitted = EmitterWebhookEvent<"pull_request_review.submitted">["payload"];
type ReviewCommentCreated = EmitterWebhookEvent<"pull_request_review_comment.created">["payload"];
type PullRequestClosed = EmitterWebhookEvent<"pull_request.closed">["payload"];

/** The GitHub events (name.action) this service acts on, as a discriminated union. */
export type GitHubEvent =
  | { name: "issue_comment"; payload: IssueCommentCreated }
  | { name: "pull_request_review"; payload: ReviewSubmitted }
  | { name: "pull_request_review_comment"; payload: ReviewCommentCreated }
  | { name: "pull_request"; payload: PullRequestClosed };

const ACTED_ON: Record<string, string> = {
  issue_comment: "created",
  pull_request_review: "submitted",
  pull_request_review_comment: "created",
  pull_request: "closed",
};

/**
 * Narrows an (event header, parsed body) pair to an event we act on, says why it is not ours
 * (`reason`), or why the body cannot be one (`invalid`: the fields we need are missing).
 */
export function narrowGitHubEvent(name: string, payload: unknown): GitHubEvent | { reason: string } | { invalid: string } {
  const action = (payload as { action?: unknown } | null)?.action;
  const wanted = ACTED_ON[name];
  if (!wanted) return { reason: `GitHub "${name}" events are not acted on` };
  if (action !== wanted) return { reason: `GitHub ${name}.${String(action)} is not acted on` };
  const spec = GITHUB_SHAPES[name];
  const problem = spec ? checkShape(payload, spec) : null;
  if (problem) return { invalid: `GitHub ${name}.${action} payload: ${problem}` };
  return { name, payload } as GitHubEvent;
}

/** Maps a GitHub event to an intent. Pure: whether the PR is an agent's is the worker's question. */
export function mapGitHubEvent(event: GitHubEvent, ctx: DeliveryContext): Decision {
  const repo = repoOf(event.payload.repository);
  switch (event.name) {
    case "issue_comment": {
      const { issue, comment } = event.payload;
      if (!issue.pull_request) return ignore("comment is on an issue, not a pull request");
      return feedback(repo, issue.number, "issue_comment", comment, null, null, ctx);
    }
    case "pull_request_review": {
      const { review, pull_request: pr } = event.payload;
      const state = String(review.state).toLowerCase();
      // An approval with no words asks nothing of the agent; an empty "commented" review is the
      // wrapper of inline comments, which arrive as their own events.
      if (!review.body && state !== "changes_requested") return ignore(`review "${state}" without a body`);
      return feedback(repo, pr.number, "pull_request_review", review, { id: review.id, state }, null, ctx);
    }
    case "pull_request_review_comment": {
      const { comment, pull_request: pr } = event.payload;
      const location = {
        path: comment.path,
        line: comment.line ?? comment.original_line ?? null,
        diffHunk: comment.diff_hunk,
        inReplyToId: comment.in_reply_to_id ?? null,
      };
      const review = comment.pull_request_review_id
        ? { id: comment.pull_request_review_id, state: "commented" }
        : null;
      return feedback(repo, pr.number, "pull_request_review_comment", comment, review, location, ctx);
    }
    case "pull_request": {
      const pr = event.payload.pull_request;
      return {
        act: true,
        intent: {
          kind: "pr-closed",
          data: {
            kind: "pr-closed",
            repo,
            prNumber: pr.number,
            merged: Boolean(pr.merged),
            headRef: pr.head.ref,
            htmlUrl: pr.html_url,
            closedAt: pr.closed_at ?? ctx.receivedAt,
            closedBy: event.payload.sender?.login ?? null,
            source: ctx,
          },
        },
      };
    }
  }
}

function repoOf(r: { name: string; owner: { login: string } }): RepoRef {
  return { owner: r.owner.login, name: r.name };
}

interface CommentLike {
  id: number;
  body?: string | null;
  html_url: string;
  user: { login: string; type?: string } | null;
  author_association: string;
}

function feedback(
  repo: RepoRef,
  prNumber: number,
  event: FeedbackJobData["event"],
  c: CommentLike,
  review: FeedbackJobData["review"],
  location: FeedbackJobData["location"],
  ctx: DeliveryContext,
): Decision {
  return {
    act: true,
    intent: {
      kind: "feedback",
      data: {
        kind: "feedback",
        repo,
        prNumber,
        event,
        commentId: c.id,
        body: c.body ?? "",
        htmlUrl: c.html_url,
        author: {
          login: c.user?.login ?? "ghost",
          type: c.user?.type ?? "User",
          association: c.author_association,
        },
        review,
        location,
        source: ctx,
      },
    },
  };
}
