import type { FeedbackJobData } from "./queues.js";

/** Whether a piece of human feedback asks the agent for a revision, and why. */
export type Trigger = { revise: true; because: string } | { revise: false; collect: boolean; because: string };

/** True when `body` addresses the agent by its handle (as a word, case-insensitive). */
export function mentions(body: string, handle: string): boolean {
  const escaped = handle.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^A-Za-z0-9_-])${escaped}(?![A-Za-z0-9_-])`, "i").test(body);
}

/**
 * A "changes requested" review or anything that addresses the agent triggers a revision. Inline
 * comments are collected anyway: they usually belong to a review whose own webhook decides.
 * Plain discussion between humans does neither.
 */
export function classifyFeedback(f: FeedbackJobData, handle: string): Trigger {
  if (f.review?.state === "changes_requested" && f.event === "pull_request_review") {
    return { revise: true, because: "changes requested" };
  }
  if (mentions(f.body, handle)) return { revise: true, because: `addressed to ${handle}` };
  if (f.event === "pull_request_review_comment") return { revise: false, collect: true, because: "inline comment, kept for its review" };
  return { revise: false, collect: false, because: "discussion that does not address the agent" };
}
