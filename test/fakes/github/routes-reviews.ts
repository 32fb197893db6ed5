/** Pull request reviews and review (inline) comments, including threaded replies. */
import type { Ctx, Route } from "./http.js";
import { ApiError, getRepo, intParam, listResult, notFound, route, str, validationFailed } from "./http.js";
import { refreshPull, requirePull } from "./routes-pulls.js";
import { reviewCommentObject, reviewObject } from "./serializers.js";
import type { GitHubState, PullRecord, ReviewCommentRecord, ReviewRecord, ReviewState } from "./state.js";
import { newId, repoKey, timestamp } from "./state.js";

const EVENTS: Record<string, ReviewState> = {
  APPROVE: "APPROVED",
  REQUEST_CHANGES: "CHANGES_REQUESTED",
  COMMENT: "COMMENTED",
};

export function insertReview(
  state: GitHubState,
  pull: PullRecord,
  r: { user: string; body: string; state: ReviewState; commitId?: string },
): ReviewRecord {
  const review: ReviewRecord = {
    id: newId(state),
    repoKey: pull.repoKey,
    pullNumber: pull.number,
    user: r.user,
    body: r.body,
    state: r.state,
    commitId: r.commitId ?? pull.headSha,
    submittedAt: r.state === "PENDING" ? null : timestamp(),
  };
  state.reviews.push(review);
  return review;
}

export interface NewReviewComment {
  user: string;
  body: string;
  path: string;
  line: number | null;
  side?: "LEFT" | "RIGHT";
  diffHunk?: string;
  reviewId?: number | null;
  inReplyToId?: number | null;
  commitId?: string;
}

export function insertReviewComment(
  state: GitHubState,
  pull: PullRecord,
  c: NewReviewComment,
): ReviewCommentRecord {
  const now = timestamp();
  const reviewId =
    c.reviewId ??
    insertReview(state, pull, { user: c.user, body: "", state: "COMMENTED", commitId: c.commitId }).id;
  const record: ReviewCommentRecord = {
    id: newId(state),
    repoKey: pull.repoKey,
    pullNumber: pull.number,
    reviewId,
    inReplyToId: c.inReplyToId ?? null,
    body: c.body,
    user: c.user,
    path: c.path,
    line: c.line,
    side: c.side ?? "RIGHT",
    diffHunk: c.diffHunk ?? `@@ -1,1 +1,${c.line ?? 1} @@`,
    commitId: c.commitId ?? pull.headSha,
    createdAt: now,
    updatedAt: now,
  };
  state.reviewComments.push(record);
  return record;
}

function findComment(ctx: Ctx, id: number): ReviewCommentRecord {
  const repo = getRepo(ctx);
  const key = repoKey(repo.owner, repo.name);
  const c = ctx.state.reviewComments.find((x) => x.id === id && x.repoKey === key);
  if (!c) throw notFound();
  return c;
}

/** A reply joins the thread of the comment's root, as GitHub does for replies to replies. */
function reply(ctx: Ctx, pull: PullRecord, target: ReviewCommentRecord, body: string | undefined) {
  if (!body)
    throw validationFailed([{ resource: "PullRequestReviewComment", code: "missing_field", field: "body" }]);
  const rootId = target.inReplyToId ?? target.id;
  return insertReviewComment(ctx.state, pull, {
    user: ctx.login,
    body,
    path: target.path,
    line: target.line,
    side: target.side,
    diffHunk: target.diffHunk,
    inReplyToId: rootId,
    commitId: target.commitId,
  });
}

async function createReview(ctx: Ctx) {
  const repo = getRepo(ctx);
  const pull = requirePull(ctx, repo);
  await refreshPull(repo, pull);
  const event = str(ctx, "event");
  const reviewState: ReviewState = event ? (EVENTS[event] ?? "PENDING") : "PENDING";
  if (event && !EVENTS[event])
    throw validationFailed([{ resource: "PullRequestReview", field: "event", code: "invalid" }]);
  const body = str(ctx, "body") ?? "";
  const comments = Array.isArray(ctx.body.comments)
    ? (ctx.body.comments as Array<Record<string, unknown>>)
    : [];
  if (pull.user.toLowerCase() === ctx.login.toLowerCase()) {
    if (reviewState === "APPROVED")
      throw new ApiError(422, "Unprocessable Entity", ["Review Can not approve your own pull request"]);
    if (reviewState === "CHANGES_REQUESTED")
      throw new ApiError(422, "Unprocessable Entity", [
        "Review Can not request changes on your own pull request",
      ]);
  }
  if ((reviewState === "CHANGES_REQUESTED" || (reviewState === "COMMENTED" && !comments.length)) && !body) {
    throw new ApiError(422, "Unprocessable Entity", [`Review body is required for ${event}`]);
  }
  const review = insertReview(ctx.state, pull, {
    user: ctx.login,
    body,
    state: reviewState,
    commitId: str(ctx, "commit_id"),
  });
  for (const c of comments) {
    insertReviewComment(ctx.state, pull, {
      user: ctx.login,
      body: String(c.body ?? ""),
      path: String(c.path ?? ""),
      line: typeof c.line === "number" ? c.line : typeof c.position === "number" ? c.position : null,
      side: c.side === "LEFT" ? "LEFT" : "RIGHT",
      reviewId: review.id,
      commitId: review.commitId,
    });
  }
  return { status: 200, body: reviewObject(ctx.state, repo, review, ctx.apiUrl) };
}

function listReviews(ctx: Ctx) {
  const repo = getRepo(ctx);
  const pull = requirePull(ctx, repo);
  const reviews = ctx.state.reviews.filter((r) => r.repoKey === pull.repoKey && r.pullNumber === pull.number);
  return listResult(ctx, reviews, (r) => reviewObject(ctx.state, repo, r, ctx.apiUrl));
}

function getReview(ctx: Ctx) {
  const repo = getRepo(ctx);
  const pull = requirePull(ctx, repo);
  const id = intParam(ctx, "review_id");
  const r = ctx.state.reviews.find(
    (x) => x.id === id && x.repoKey === pull.repoKey && x.pullNumber === pull.number,
  );
  if (!r) throw notFound();
  return { status: 200, body: reviewObject(ctx.state, repo, r, ctx.apiUrl) };
}

function listComments(ctx: Ctx) {
  const repo = getRepo(ctx);
  const pull = requirePull(ctx, repo);
  const comments = ctx.state.reviewComments.filter(
    (c) => c.repoKey === pull.repoKey && c.pullNumber === pull.number,
  );
  return listResult(ctx, comments, (c) => reviewCommentObject(ctx.state, repo, c, ctx.apiUrl));
}

async function createComment(ctx: Ctx) {
  const repo = getRepo(ctx);
  const pull = requirePull(ctx, repo);
  await refreshPull(repo, pull);
  const body = str(ctx, "body");
  const inReplyTo = ctx.body.in_reply_to;
  let record: ReviewCommentRecord;
  if (typeof inReplyTo === "number") {
    const target = findComment(ctx, inReplyTo);
    if (target.pullNumber !== pull.number) throw notFound();
    record = reply(ctx, pull, target, body);
  } else {
    const path = str(ctx, "path");
    const line = typeof ctx.body.line === "number" ? ctx.body.line : null;
    const missing = [
      ...(body ? [] : ["body"]),
      ...(path ? [] : ["path"]),
      ...(line !== null || typeof ctx.body.position === "number" ? [] : ["line"]),
    ];
    if (missing.length || !body || !path) {
      throw validationFailed(
        missing.map((field) => ({ resource: "PullRequestReviewComment", code: "missing_field", field })),
      );
    }
    record = insertReviewComment(ctx.state, pull, {
      user: ctx.login,
      body,
      path,
      line: line ?? (ctx.body.position as number),
      side: ctx.body.side === "LEFT" ? "LEFT" : "RIGHT",
      commitId: str(ctx, "commit_id"),
    });
  }
  return { status: 201, body: reviewCommentObject(ctx.state, repo, record, ctx.apiUrl) };
}

function createReply(ctx: Ctx) {
  const repo = getRepo(ctx);
  const pull = requirePull(ctx, repo);
  const target = findComment(ctx, intParam(ctx, "comment_id"));
  if (target.pullNumber !== pull.number) throw notFound();
  const record = reply(ctx, pull, target, str(ctx, "body"));
  return { status: 201, body: reviewCommentObject(ctx.state, repo, record, ctx.apiUrl) };
}

function getComment(ctx: Ctx) {
  const c = findComment(ctx, intParam(ctx, "comment_id"));
  return { status: 200, body: reviewCommentObject(ctx.state, getRepo(ctx), c, ctx.apiUrl) };
}

function updateComment(ctx: Ctx) {
  const c = findComment(ctx, intParam(ctx, "comment_id"));
  const body = str(ctx, "body");
  if (!body)
    throw validationFailed([{ resource: "PullRequestReviewComment", code: "missing_field", field: "body" }]);
  c.body = body;
  c.updatedAt = timestamp();
  return { status: 200, body: reviewCommentObject(ctx.state, getRepo(ctx), c, ctx.apiUrl) };
}

export function reviewRoutes(): Route[] {
  const p = "/repos/:owner/:repo/pulls";
  return [
    route("GET", `${p}/:number/reviews`, listReviews),
    route("POST", `${p}/:number/reviews`, createReview),
    route("GET", `${p}/:number/reviews/:review_id`, getReview),
    route("GET", `${p}/:number/comments`, listComments),
    route("POST", `${p}/:number/comments`, createComment),
    route("POST", `${p}/:number/comments/:comment_id/replies`, createReply),
    route("GET", `${p}/comments/:comment_id`, getComment),
    route("PATCH", `${p}/comments/:comment_id`, updateComment),
  ];
}
