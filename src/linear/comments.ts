import type { LinearClient } from "@linear/sdk";

/**
 * Writes the issue's progress comment under an id chosen (and saved on the task) before it is
 * first created: edit it if it exists, create it with that id if not. A job killed between
 * creating the comment and recording it therefore never leaves a second comment behind.
 */
export async function upsertComment(linear: LinearClient, p: { issueId: string; commentId: string; body: string }): Promise<void> {
  try {
    await linear.updateComment(p.commentId, { body: p.body });
    return;
  } catch (err) {
    // Not created yet (or deleted by someone): create it under the same id.
    if (!isNotFound(err)) throw err;
  }
  try {
    await linear.createComment({ id: p.commentId, issueId: p.issueId, body: p.body });
  } catch (err) {
    // Another writer (a second job racing for the same issue) created it since our update failed.
    if (!isTaken(err)) throw err;
    await linear.updateComment(p.commentId, { body: p.body });
  }
}

/** Posts a one-off comment (routing help, lifecycle notes). */
export async function postComment(linear: LinearClient, p: { issueId: string; body: string; id?: string }): Promise<void> {
  await linear.createComment({ issueId: p.issueId, body: p.body, ...(p.id ? { id: p.id } : {}) });
}

// Linear answers an unknown id with INVALID_INPUT "Entity not found: Comment". Other invalid
// input (a body over the size limit, say) must surface as itself, not as a second create.
function isNotFound(err: unknown): boolean {
  const e = err as { message?: string };
  return /entity not found|could not find/i.test(e?.message ?? "");
}

// A create under a client-chosen id that exists: "A comment with this id already exists."
function isTaken(err: unknown): boolean {
  return /already exists/i.test((err as { message?: string })?.message ?? "");
}
