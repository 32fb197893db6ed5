import { describe, expect, it } from "vitest";
import { planJob } from "../../webhooks/enqueue.js";
import { mapGitHubEvent, narrowGitHubEvent } from "../../webhooks/github-intents.js";
import type { Decision } from "../../webhooks/intents.js";
import { githubExample, prCommentExample } from "../fixtures/github.js";

const ctx = { delivery: "72d3162e-cc78-11e3-81ab-4c9367dc0958", receivedAt: "2026-11-21T00:00:00.000Z" };

function decide(name: string, payload: unknown): Decision {
  const narrowed = narrowGitHubEvent(name, payload);
  if ("invalid" in narrowed) throw new Error(narrowed.invalid);
  return "reason" in narrowed ? { act: false, reason: narrowed.reason } : mapGitHubEvent(narrowed, ctx);
}

describe("mapGitHubEvent on real @octokit/webhooks-examples payloads", () => {
  it("a PR conversation comment is feedback with author login and association", () => {
    const p = prCommentExample();
    const d = decide("issue_comment", p);
    if (!d.act || d.intent.kind !== "feedback" || d.intent.data.kind !== "feedback") throw new Error("expected feedback");
    expect(d.intent.data).toMatchObject({
      repo: { owner: p.repository.owner.login, name: p.repository.name },
      prNumber: p.issue.number,
      event: "issue_comment",
      commentId: p.comment.id,
      body: p.comment.body,
      author: { login: p.comment.user.login, type: "User", association: "OWNER" },
      review: null,
      location: null,
    });
    expect(planJob(d.intent).jobId).toBe(
      `feedback-${p.repository.owner.login}-${p.repository.name}-${p.issue.number}-issue_comment-${p.comment.id}`,
    );
  });

  it("a comment on a plain issue is ignored", () => {
    expect(decide("issue_comment", githubExample("issue_comment", "created"))).toEqual({
      act: false,
      reason: "comment is on an issue, not a pull request",
    });
  });

  it("edited and deleted comments are not acted on", () => {
    expect(decide("issue_comment", githubExample("issue_comment", "edited")).act).toBe(false);
    expect(decide("issue_comment", githubExample("issue_comment", "deleted")).act).toBe(false);
  });

  it("a submitted review with a body is feedback carrying the review state", () => {
    const p = githubExample("pull_request_review", "submitted");
    p.review.body = "Please rename the flag.";
    const d = decide("pull_request_review", p);
    if (!d.act || d.intent.kind !== "feedback" || d.intent.data.kind !== "feedback") throw new Error("expected feedback");
    expect(d.intent.data.review).toEqual({ id: p.review.id, state: "commented" });
    expect(d.intent.data.prNumber).toBe(p.pull_request.number);
  });

  it("a changes-requested review is feedback even without a body; an empty comment review is not", () => {
    const p = githubExample("pull_request_review", "submitted");
    p.review.state = "changes_requested";
    p.review.body = null;
    const d = decide("pull_request_review", p);
    expect(d.act && d.intent.kind === "feedback" && d.intent.data.kind === "feedback" && d.intent.data.review?.state).toBe("changes_requested");
    const empty = githubExample("pull_request_review", "submitted");
    empty.review.body = null;
    expect(decide("pull_request_review", empty)).toEqual({
      act: false,
      reason: 'review "commented" without a body',
    });
  });

  it("dismissed reviews are not acted on", () => {
    expect(decide("pull_request_review", githubExample("pull_request_review", "dismissed")).act).toBe(false);
  });

  it("an inline review comment is feedback with path, line and diff hunk", () => {
    const p = githubExample("pull_request_review_comment", "created", 1);
    const d = decide("pull_request_review_comment", p);
    if (!d.act || d.intent.kind !== "feedback" || d.intent.data.kind !== "feedback") throw new Error("expected feedback");
    expect(d.intent.data.location).toEqual({
      path: p.comment.path,
      line: p.comment.line,
      diffHunk: p.comment.diff_hunk,
      inReplyToId: p.comment.in_reply_to_id ?? null,
    });
    expect(d.intent.data.review?.id).toBe(p.comment.pull_request_review_id);
  });

  it("a closed PR is a pr-closed intent, merged or not", () => {
    const closed = githubExample("pull_request", "closed");
    const d = decide("pull_request", closed);
    if (!d.act || d.intent.kind !== "pr-closed") throw new Error("expected pr-closed");
    expect(d.intent.data).toMatchObject({
      merged: false,
      prNumber: closed.number,
      headRef: closed.pull_request.head.ref,
    });
    const merged = githubExample("pull_request", "closed");
    merged.pull_request.merged = true;
    const m = decide("pull_request", merged);
    expect(m.act && m.intent.kind === "pr-closed" && m.intent.data.merged).toBe(true);
    expect(m.act && planJob(m.intent).queue).toBe("lifecycle");
  });

  it("other events and actions are acknowledged and ignored", () => {
    expect(decide("pull_request", githubExample("pull_request", "opened"))).toEqual({
      act: false,
      reason: "GitHub pull_request.opened is not acted on",
    });
    expect(decide("push", { ref: "refs/heads/main" })).toEqual({
      act: false,
      reason: 'GitHub "push" events are not acted on',
    });
  });
});

describe("narrowGitHubEvent refuses a payload the mappers could not trust", () => {
  it("names a wrongly typed field and a missing one, and passes nothing on", () => {
    const typed = prCommentExample() as unknown as { comment: { id: unknown } };
    typed.comment.id = "7";
    expect(narrowGitHubEvent("issue_comment", typed)).toEqual({ invalid: expect.stringMatching(/^GitHub issue_comment\.created payload: comment\.id: .*expected number/) });
    const missing = prCommentExample() as unknown as { issue: { number?: unknown } };
    delete missing.issue.number;
    expect(narrowGitHubEvent("issue_comment", missing)).toEqual({ invalid: "GitHub issue_comment.created payload: issue.number: missing" });
  });

  it("keeps only the fields it checked: the 13 KB body becomes a small typed object", () => {
    const narrowed = narrowGitHubEvent("issue_comment", prCommentExample());
    if (!("payload" in narrowed)) throw new Error("expected the event to be acted on");
    expect(JSON.stringify(narrowed.payload).length).toBeLessThan(JSON.stringify(prCommentExample()).length / 10);
    expect(narrowed.payload).not.toHaveProperty("repository.owner.avatar_url");
  });
});

describe("the installation an App's webhook names", () => {
  const repoOfFeedback = (d: Decision) => {
    if (!d.act || d.intent.kind !== "feedback" || d.intent.data.kind !== "feedback") throw new Error("expected feedback");
    return d.intent.data.repo;
  };

  it("travels with the repository of the job, so the worker needs no look-up; a token's webhook has none", () => {
    const app = prCommentExample();
    const repository = { owner: app.repository.owner.login, name: app.repository.name };
    const withApp = decide("issue_comment", { ...app, installation: { id: 4242, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0Mg==" } });
    expect(repoOfFeedback(withApp)).toEqual({ ...repository, installationId: 4242 });
    const token: Record<string, unknown> = { ...prCommentExample() };
    delete token.installation;
    const withToken = decide("issue_comment", token);
    expect(repoOfFeedback(withToken)).toEqual(repository);
    // The job id is the same either way: the installation is not part of what the event is about.
    if (!withApp.act || !withToken.act) throw new Error("expected both to act");
    expect(planJob(withApp.intent).jobId).toBe(planJob(withToken.intent).jobId);
  });
});
