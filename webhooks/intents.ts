import type { AppRevokedJobData, CancelJobData, FeedbackJobData, ImplementJobData, LinearCommentJobData, PrClosedJobData, SessionFeedbackJobData, TreeJobData } from "../jobs/queues.js";

/** What a webhook asks the service to do, decided from its payload alone. */
export type Intent =
  | { kind: "implement"; data: ImplementJobData }
  | { kind: "cancel"; data: CancelJobData }
  | { kind: "feedback"; data: FeedbackJobData | SessionFeedbackJobData }
  | { kind: "pr-closed"; data: PrClosedJobData }
  | { kind: "app-revoked"; data: AppRevokedJobData }
  /** A comment a person created on a Linear issue: it may answer a question the service asked. */
  | { kind: "linear-comment"; data: LinearCommentJobData }
  /** A sub-issue was added, moved, removed, renamed or changed state in Linear: its parent's tree follows. */
  | { kind: "tree-tick"; data: TreeJobData };

/** The outcome of mapping: an intent to enqueue, or a reason why the event is not ours to act on. */
export type Decision = { act: true; intent: Intent } | { act: false; reason: string };

/** Where a delivery came from; copied into job data for tracing, never secrets. */
export interface DeliveryContext {
  delivery: string;
  receivedAt: string;
}

/** Shorthand for a decision to ignore. */
export function ignore(reason: string): Decision {
  return { act: false, reason };
}
