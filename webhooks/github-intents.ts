import type { z } from "zod";
import type { FeedbackJobData, RepoRef } from "../jobs/queues.js";
import { ISSUE_COMMENT, parseShape, PULL_REQUEST_CLOSED, REVIEW, REVIEW_COMMENT } from "./github-shapes.js";
import { type Decision, type DeliveryContext, ignore } from "./intents.js";

/** The GitHub events (name.action) this service acts on, as a discriminated union of checked payloads. */
export type GitHubEvent =
  | { name: "issue_comment"; payload: z.output<typeof ISSUE_COMMENT> }
  | { name: "pull_request_review"; payload: z.output<typeof REVIEW> }
  | { name: "pull_request_review_comment"; payload: z.output<typeof REVIEW_COMMENT> }
  | { name: "pull_request"; payload: z.output<typeof PULL_REQUEST_CLOSED> };

// The one action acted on per event name, and the schema of the fields its mapper reads.
const ACTED_ON = {
  issue_comment: { action: "created", schema: ISSUE_COMMENT },
  pull_request_review: { action: "submitted", schema: REVIEW },
  pull_request_review_comment: { action: "created", schema: REVIEW_COMMENT },
  pull_request: { action: "closed", schema: PULL_REQUEST_CLOSED },
} as const;

const isActedOn = (name: string): name is keyof typeof ACTED_ON => Object.hasOwn(ACTED_ON, name);

/**
 * Narrows an (event header, parsed body) pair to an event we act on, says why it is not ours
 * (`reason`), or why the body cannot be one (`invalid`: a field we read is missing or mistyped).
 */
export function narrowGitHubEvent(name: string, payload: unknown): GitHubEvent | { reason: string } | { invalid: string } {
  if (!isActedOn(name)) return { reason: `GitHub "${name}" events are not acted on` };
  const action = typeof payload === "object" && payload !== null && "action" in payload ? payload.action : undefined;
  const wanted = ACTED_ON[name];
  if (action !== wanted.action) return { reason: `GitHub ${name}.${String(action)} is not acted on` };
  const parsed = parseShape(wanted.schema, payload);
  if ("problem" in parsed) return { invalid: `GitHub ${name}.${wanted.action} payload: ${parsed.problem}` };
  // The schema was picked by `name`, so the pair matches one member of the union.
  return { name, payload: parsed.data } as GitHubEvent;
}

/** Maps a GitHub event to an intent. Pure: whether the PR is an agent's is the worker's question. */
export function mapGitHubEvent(event: GitHubEvent, ctx: DeliveryContext): Decision {
  const repo = repoOf(event.payload.repository, event.payload.installation?.id);
  switch (event.name) {
    case "issue_comment": {
      const { issue, comment } = event.payload;
      if (!issue.pull_request) return ignore("comment is on an issue, not a pull request");
      return feedback(repo, issue.number, "issue_comment", comment, null, null, ctx);
    }
    case "pull_request_review": {
      const { review, pull_request: pr } = event.payload;
      const state = review.state.toLowerCase();
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

function repoOf(r: { name: string; owner: { login: string } }, installationId: number | undefined): RepoRef {
  return { owner: r.owner.login, name: r.name, ...(installationId !== undefined ? { installationId } : {}) };
}

type CommentLike = z.output<typeof ISSUE_COMMENT>["comment"];

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
