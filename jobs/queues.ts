import type { JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { SessionRef, Task } from "../src/tasks/task.js";
import { VersionedQueue } from "./job-schema.js";

/** Queue names. Cancellation and lifecycle get their own queue so a busy agent queue never delays them. */
export const QUEUE = {
  implement: "implement",
  feedback: "feedback",
  revise: "revise",
  lifecycle: "lifecycle",
  reconcile: "reconcile",
  ack: "ack",
} as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];

/** A repository as GitHub names it. */
export interface RepoRef {
  owner: string;
  name: string;
  /** The GitHub App installation the webhook named (App webhooks only): used before a look-up. */
  installationId?: number;
}

/** A Linear issue that gained the agent label. Carries identifiers only: the worker re-reads the issue. */
export interface ImplementJobData {
  kind: "implement";
  issueId: string;
  identifier: string;
  title: string;
  teamId: string | null;
  teamKey: string | null;
  projectName: string | null;
  labelNames: string[];
  url: string | null;
  /** The issue's updatedAt when the label appeared: one job per labelling, however often delivered. */
  eventAt: string;
  /** Where the intent came from, for logs and the dashboard. */
  source: { delivery: string; receivedAt: string; actor: string | null };
  /** Set when a Linear agent session (delegation or @mention) asked for the work. */
  session?: SessionJobRef;
  /** The workspace the webhook came from, so a multi-workspace app serves the task with its own client. */
  organizationId?: string;
}

/** A session in job data: the session and what Linear gave the agent to start from (user text, no secrets). */
export interface SessionJobRef extends SessionRef {
  /** Linear's own rendering of the issue and the thread (`promptContext`). */
  promptContext: string | null;
  /** Workspace and team guidance, nearest team first. */
  guidance: string[];
  /** An @mention inside a thread: the thread's earlier comments, oldest first. */
  previousComments: string[];
  /** The session's root comment: the @mention itself, or Linear's stub for a delegation. */
  comment: string | null;
  /** A human's follow-up that starts a new attempt (a `prompted` message on a task with no open PR). */
  followUp?: string | null;
}

/** The agent label is gone or the issue was closed in Linear: stop whatever runs for it. */
export interface CancelJobData {
  kind: "cancel";
  issueId: string;
  identifier: string;
  reason: "label-removed" | "issue-canceled" | "issue-completed" | "stop-requested" | "delegate-removed" | "app-revoked" | "parent-stopped";
  eventAt: string;
  source: { delivery: string; receivedAt: string; actor: string | null };
}

/** A human spoke on a pull request. Whether it concerns an agent, and may direct it, the worker decides. */
export interface FeedbackJobData {
  kind: "feedback";
  repo: RepoRef;
  prNumber: number;
  event: "issue_comment" | "pull_request_review" | "pull_request_review_comment" | "linear_prompt";
  /** Comment or review id on GitHub. */
  commentId: number;
  body: string;
  htmlUrl: string;
  author: { login: string; type: string; association: string };
  review: { id: number; state: string } | null;
  /** Inline comments only: where in the diff the human pointed. */
  location: { path: string; line: number | null; diffHunk: string; inReplyToId: number | null } | null;
  source: { delivery: string; receivedAt: string };
}

/** A pull request was closed, merged or not. */
export interface PrClosedJobData {
  kind: "pr-closed";
  repo: RepoRef;
  prNumber: number;
  merged: boolean;
  headRef: string;
  htmlUrl: string;
  closedAt: string;
  closedBy: string | null;
  source: { delivery: string; receivedAt: string };
}

/** A workspace uninstalled the Linear OAuth app: forget its tokens and stop its work. */
export interface AppRevokedJobData {
  kind: "app-revoked";
  organizationId: string;
  oauthClientId: string;
  /** The webhook's createdAt: one job per revocation, however often delivered. */
  revokedAt: string;
  source: { delivery: string; receivedAt: string };
}

/**
 * The manager's work on a parent whose issue is split: `create-plan` creates the approved plan's
 * sub-issues (idempotent), `tick` re-derives the tree from the task records (start unblocked
 * children, roll up status, enforce the tree budget). Both are keyed by the parent issue.
 */
export interface TreeJobData {
  kind: "create-plan" | "tick";
  parentIssueId: string;
  /** What asked for it (a child merged, a sub-issue changed in Linear, the reconciler), for logs. */
  reason: string;
  /** A tick that first reads the sub-issues from Linear (a webhook about one, or the reconciler). */
  linear?: boolean;
  /** A sub-issue moved from this parent to `parentIssueId`: tick the old parent too. */
  otherParentIssueId?: string;
}

export type LifecycleJobData = CancelJobData | PrClosedJobData | AppRevokedJobData | TreeJobData;

/** A human's message in the issue's Linear agent session (`prompted`); the worker decides what it becomes. */
export interface SessionFeedbackJobData {
  kind: "session-feedback";
  issueId: string;
  identifier: string;
  title: string;
  url: string | null;
  session: SessionRef;
  /** The prompt activity's id: one job per message, however often delivered. */
  activityId: string;
  body: string;
  author: string | null;
  createdAt: string;
  source: { delivery: string; receivedAt: string };
}

/**
 * A comment created on a Linear issue (label path): it may answer a question the service asked
 * (a clarification, a plan's approval). Whether it does, the worker decides.
 */
export interface LinearCommentJobData {
  kind: "linear-comment";
  issueId: string;
  commentId: string;
  /** The comment it replies to, when it is a reply. */
  parentCommentId: string | null;
  body: string;
  /** Linear user id of the author; null for integrations and bots. */
  authorId: string | null;
  authorName: string | null;
  createdAt: string;
  organizationId?: string;
  source: { delivery: string; receivedAt: string };
}

/**
 * An implement attempt started by a session message (a follow-up with no PR to revise, or a
 * repository answer): the issue as the message names it, under the message's time and author.
 */
export function implementFromMessage(d: SessionFeedbackJobData, teamId: string | null, session?: SessionJobRef): ImplementJobData {
  return {
    kind: "implement",
    issueId: d.issueId,
    identifier: d.identifier,
    title: d.title,
    teamId,
    teamKey: null,
    projectName: null,
    labelNames: [],
    url: d.url,
    eventAt: d.createdAt,
    source: { ...d.source, actor: d.author },
    ...(session ? { session } : {}),
  };
}

/**
 * An implement attempt the service starts itself for a task it knows (an answer resumes it, the
 * manager starts a sub-issue, the reconciler repairs it): the issue as the task names it; the
 * worker re-reads the rest.
 */
export function implementFromTask(
  task: Pick<Task, "issueId" | "identifier" | "title" | "teamId" | "issueUrl" | "organizationId">,
  p: { eventAt: string; source: ImplementJobData["source"] },
): ImplementJobData {
  return {
    kind: "implement",
    issueId: task.issueId,
    identifier: task.identifier,
    title: task.title,
    teamId: task.teamId,
    teamKey: null,
    projectName: null,
    labelNames: [],
    url: task.issueUrl,
    eventAt: p.eventAt,
    source: p.source,
    ...(task.organizationId ? { organizationId: task.organizationId } : {}),
  };
}

/** The first activity of a new session: says the work is queued, and why, within Linear's 10 seconds. */
export interface AckJobData {
  kind: "ack";
  issueId: string;
  identifier: string;
  title: string;
  url: string | null;
  session: SessionRef;
  /** The implement job the session asked for. */
  implementJobId: string;
}

/** A periodic sweep for missed webhooks and stuck tasks. */
export interface ReconcileJobData {
  kind: "reconcile";
}

/** A revision of an agent's PR; the feedback itself waits in the FeedbackStore until it runs. */
export interface ReviseJobData {
  kind: "revise";
  issueId: string;
  repo: RepoRef;
  prNumber: number;
  /** The PR head the revision started on, set once it starts (a retry on any worker supersedes that head's check run). */
  startedOn?: string;
}

/**
 * Job options shared by every queue. Retention is bounded by age, which keeps Redis memory flat;
 * finished jobs outlive the 8-day delivery markers, so a redelivered webhook always finds its job
 * and its add is a no-op (see webhooks/accept.ts).
 */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: "exponential", delay: 5_000 },
  removeOnComplete: { age: 9 * 24 * 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

export interface Queues {
  implement: Queue<ImplementJobData>;
  feedback: Queue<FeedbackJobData | SessionFeedbackJobData | LinearCommentJobData>;
  revise: Queue<ReviseJobData>;
  lifecycle: Queue<LifecycleJobData>;
  reconcile: Queue<ReconcileJobData>;
  /** Session acknowledgements: fast workers of their own, never behind an agent. */
  ack: Queue<AckJobData>;
  close(): Promise<void>;
}

/**
 * Opens one Queue per name over a shared producer connection. Every job added through them carries
 * the job data's schema version (see job-schema). Connection errors go to `onError` (the
 * connection's own handler already reports them; BullMQ would print them otherwise).
 */
export function createQueues(connection: Redis, prefix: string, onError: (err: Error) => void = () => undefined): Queues {
  const open = <T>(name: QueueName) => {
    const queue: Queue<T> = new VersionedQueue<T>(name, { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS, skipWaitingForReady: true });
    queue.on("error", onError);
    return queue;
  };
  const implement = open<ImplementJobData>(QUEUE.implement);
  const feedback = open<FeedbackJobData | SessionFeedbackJobData | LinearCommentJobData>(QUEUE.feedback);
  const revise = open<ReviseJobData>(QUEUE.revise);
  const lifecycle = open<LifecycleJobData>(QUEUE.lifecycle);
  const reconcile = open<ReconcileJobData>(QUEUE.reconcile);
  const ack = open<AckJobData>(QUEUE.ack);
  return {
    implement,
    feedback,
    revise,
    lifecycle,
    reconcile,
    ack,
    async close() {
      await Promise.all([implement.close(), feedback.close(), revise.close(), lifecycle.close(), reconcile.close(), ack.close()]);
    },
  };
}

/** BullMQ job ids must not contain ':'; keep them readable and safe. */
export function safeJobId(...parts: Array<string | number>): string {
  return parts.map((p) => String(p).replace(/[^A-Za-z0-9._-]/g, "_")).join("-");
}
