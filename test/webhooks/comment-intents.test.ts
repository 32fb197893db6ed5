import { describe, expect, it } from "vitest";
import { mapCommentEvent } from "../../webhooks/comment-intents.js";
import { planJob } from "../../webhooks/enqueue.js";
import { mapLinearEvent } from "../../webhooks/linear-intents.js";
import { ADA, linearCommentPayload } from "../fixtures/linear.js";

const ctx = { delivery: "d-1", receivedAt: "2026-11-21T00:00:00.000Z" };
const ISSUE = "0a6f1c2e-0000-4000-8000-0000000000a1";
const QUESTION = "5c0a1b2c-0000-4000-8000-0000000000c1";

describe("mapCommentEvent (Linear Comment webhooks)", () => {
  it("a person's reply on an issue becomes a linear-comment job carrying the comment, its thread and its author", () => {
    const p = linearCommentPayload("create", { issueId: ISSUE, body: "Use the blue one, and keep the old flag.", parentId: QUESTION, organizationId: "org-1" });
    const d = mapLinearEvent(p, "agent", ctx);
    if (!d.act || d.intent.kind !== "linear-comment") throw new Error(`expected a linear-comment intent, got ${JSON.stringify(d)}`);
    expect(d.intent.data).toEqual({
      kind: "linear-comment",
      issueId: ISSUE,
      commentId: p.data.id,
      parentCommentId: QUESTION,
      body: "Use the blue one, and keep the old flag.",
      authorId: ADA.id,
      authorName: ADA.name,
      createdAt: p.data.createdAt,
      organizationId: "org-1",
      source: ctx,
    });
    // One job per comment on the feedback queue, however often Linear delivers it.
    const plan = planJob(d.intent);
    expect(plan).toMatchObject({ queue: "feedback", name: "linear-comment", jobId: `linear-comment-${p.data.id}` });
    const again = mapCommentEvent(p, { ...ctx, delivery: "d-2" });
    if (!again.act) throw new Error("expected the redelivery to map too");
    expect(planJob(again.intent).jobId).toBe(plan.jobId);
  });

  it("a top-level comment (no thread) maps with no parent", () => {
    const p = linearCommentPayload("create", { issueId: ISSUE, body: "Answer: yes." });
    const d = mapCommentEvent(p, ctx);
    expect(d).toMatchObject({ act: true, intent: { kind: "linear-comment", data: { parentCommentId: null, commentId: p.data.id } } });
  });

  it("takes the issue id from the embedded issue when issueId is missing", () => {
    const p = linearCommentPayload("create", { issueId: ISSUE, body: "ok", issue: { id: ISSUE, identifier: "ENG-7", title: "t", url: "https://linear.app/acme/issue/ENG-7", team: { id: "t1", key: "ENG", name: "Engineering" } } });
    delete (p.data as { issueId?: string | null }).issueId;
    expect(mapCommentEvent(p, ctx)).toMatchObject({ act: true, intent: { data: { issueId: ISSUE } } });
  });

  it("ignores edits and removals: only a created comment can answer", () => {
    for (const action of ["update", "remove"] as const) {
      const d = mapCommentEvent(linearCommentPayload(action, { issueId: ISSUE, body: "edited" }), ctx);
      expect(d).toEqual({ act: false, reason: `Comment action "${action}" is not acted on` });
    }
  });

  it("ignores comments by integrations and bots (no userId)", () => {
    const d = mapCommentEvent(linearCommentPayload("create", { issueId: ISSUE, body: "Synced from Slack", user: null }), ctx);
    expect(d).toEqual({ act: false, reason: "comment written by a bot or an integration, not a person" });
  });

  it("ignores comments that are not on an issue (project updates, documents)", () => {
    const p = linearCommentPayload("create", { issueId: ISSUE, body: "Nice update" });
    (p.data as { issueId?: string | null }).issueId = null;
    (p.data as { projectUpdateId?: string }).projectUpdateId = "pu-1";
    expect(mapCommentEvent(p, ctx)).toEqual({ act: false, reason: "comment is not on an issue (a project update, document or initiative)" });
  });

  it("ignores a malformed body or a missing comment id instead of throwing", () => {
    const noBody = linearCommentPayload("create", { issueId: ISSUE, body: "x" });
    (noBody.data as { body?: unknown }).body = undefined;
    expect(mapCommentEvent(noBody, ctx)).toMatchObject({ act: false, reason: "Comment event without a body" });
    const noId = linearCommentPayload("create", { issueId: ISSUE, body: "x" });
    (noId.data as { id?: unknown }).id = 7;
    expect(mapCommentEvent(noId, ctx)).toMatchObject({ act: false, reason: "Comment event without a comment id" });
  });
});
