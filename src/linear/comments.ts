import type { LinearClient } from "@linear/sdk";

/**
 * Creates the issue's progress comment, or edits it in place when its id is known, so a job
 * leaves one comment that moves rather than a trail. Returns the comment id.
 */
export async function upsertComment(
  linear: LinearClient,
  p: { issueId: string; commentId: string | null; body: string },
): Promise<string> {
  if (p.commentId) {
    try {
      const updated = await linear.updateComment(p.commentId, { body: p.body });
      const comment = await updated.comment;
      if (comment) return comment.id;
    } catch (err) {
      // Someone deleted the comment: fall through and post a new one rather than fail the job.
      if (!isNotFound(err)) throw err;
    }
  }
  const created = await linear.createComment({ issueId: p.issueId, body: p.body });
  const comment = await created.comment;
  if (!comment) throw new Error(`Linear did not return the comment created on issue ${p.issueId}`);
  return comment.id;
}

/** Posts a one-off comment (routing help, lifecycle notes). */
export async function postComment(linear: LinearClient, p: { issueId: string; body: string }): Promise<void> {
  await linear.createComment({ issueId: p.issueId, body: p.body });
}

function isNotFound(err: unknown): boolean {
  const e = err as { type?: string; message?: string };
  return e?.type === "InvalidInput" || /not found|could not find/i.test(e?.message ?? "");
}
