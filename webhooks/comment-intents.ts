import type { EntityWebhookPayloadWithCommentData } from "@linear/sdk/webhooks";
import { type Decision, type DeliveryContext, ignore } from "./intents.js";

/** Linear's `Comment` webhook, as the SDK types it. */
export type CommentEvent = EntityWebhookPayloadWithCommentData;

const str = (v: unknown): string | null => (typeof v === "string" && v ? v : null);

/**
 * Maps a Linear `Comment` webhook to a `linear-comment` job: a comment a human created on an
 * issue may answer a question the service asked (a clarification, a plan's approval). Pure: no
 * I/O, no clock. Whether it answers anything, and whether its author is the service itself (a
 * user like any other in the payload), only the worker can tell from the task.
 */
export function mapCommentEvent(payload: CommentEvent, ctx: DeliveryContext): Decision {
  if (payload.action !== "create") return ignore(`Comment action "${String(payload.action)}" is not acted on`);
  const d = (payload.data ?? {}) as Partial<CommentEvent["data"]>;
  const commentId = str(d.id);
  if (!commentId) return ignore("Comment event without a comment id");
  const issueId = str(d.issueId) ?? str(d.issue?.id);
  if (!issueId) return ignore("comment is not on an issue (a project update, document or initiative)");
  // Integrations and bots write without a user: they never answer a question asked of a person.
  const authorId = str(d.userId) ?? str(d.user?.id);
  if (!authorId) return ignore("comment written by a bot or an integration, not a person");
  if (typeof d.body !== "string") return ignore("Comment event without a body");
  const createdAt = str(d.createdAt) ?? str(payload.createdAt) ?? "";
  const organizationId = str(payload.organizationId);
  return {
    act: true,
    intent: {
      kind: "linear-comment",
      data: {
        kind: "linear-comment",
        issueId,
        commentId,
        parentCommentId: str(d.parentId) ?? str(d.parent?.id),
        body: d.body,
        authorId,
        authorName: str(d.user?.name) ?? str((payload.actor as { name?: unknown } | null | undefined)?.name),
        createdAt,
        ...(organizationId ? { organizationId } : {}),
        source: { ...ctx },
      },
    },
  };
}
