/** Where a task is in its life; one module (this one) owns which moves are allowed. */
export type TaskState =
  | "queued"
  /** Waiting for a person's answer (which repository, a clarification, a plan's approval); holds no slot or lock. */
  | "needs-input"
  /** A parent whose work is split into sub-issues: its children run, it rolls them up. */
  | "managing"
  /** A parent whose sub-issues are all done (merged, or cancelled by a human). */
  | "done"
  | "working"
  | "checking"
  | "pr-open"
  | "revising"
  | "merged"
  | "closed"
  | "failed"
  | "stopped";

import type { Clarification, ParentRef, SplitPlan, Transfer, Triage } from "./tree.js";

export type { Clarification, HumanAnswer, ParentRef, PlannedSubtask, SplitPlan, SubtaskSpec, Transfer, Triage, TriageVerdict } from "./tree.js";

/** Token counts as the Messages API reports them. */
export interface Usage {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
  /** Thinking tokens: already part of `output` (and priced with it), counted apart to show. */
  thinking?: number;
}

export const ZERO_USAGE: Usage = Object.freeze({ input: 0, output: 0, cacheWrite: 0, cacheRead: 0 });

/** Adds two usage records. */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    input: a.input + b.input,
    output: a.output + b.output,
    cacheWrite: a.cacheWrite + b.cacheWrite,
    cacheRead: a.cacheRead + b.cacheRead,
    ...(a.thinking || b.thinking ? { thinking: (a.thinking ?? 0) + (b.thinking ?? 0) } : {}),
  };
}

/**
 * The task record's schema version this release writes (see task-schema.ts for the migrations that
 * reach it). Raise it, with a migration, when a change would make older code or older records
 * misread each other: a field renamed, removed, re-typed or made required. An optional field that
 * code reads as "absent: from before it existed" needs no new version.
 */
export const TASK_SCHEMA_VERSION = 2;

/** The record of one Linear issue handed to agents; every status surface is rendered from it. */
export interface Task {
  /** The record's schema version (TASK_SCHEMA_VERSION when written by this release); absent in Redis means 1. */
  schemaVersion: number;
  issueId: string;
  identifier: string;
  title: string;
  issueUrl: string | null;
  teamId: string | null;
  repo: { owner: string; name: string } | null;
  branch: string | null;
  baseBranch: string | null;
  prNumber: number | null;
  prUrl: string | null;
  state: TaskState;
  /** What the agent is doing right now, in a few words (dashboard, progress comment). */
  step: string | null;
  attempts: number;
  /** Revisions made after reviews. */
  revisions: number;
  turns: number;
  usage: Usage;
  costUsd: number;
  /** The Linear comment edited in place as the task moves. */
  progressCommentId: string | null;
  /** Compact note for the next run, instead of replaying the transcript. */
  handoff: string | null;
  checks: { command: string; passed: boolean; summary: string } | null;
  /**
   * What a job's agent pass pushed, saved right after the push: a retry of that job (a GitHub or
   * Linear call failed after it) picks up from here instead of paying for the agent again.
   */
  landed?: Landed | null;
  /**
   * A commit a run made but has not pushed yet (kept in the worker's mirror): the next run on this
   * branch starts from it, and from no other kept commit.
   */
  unpushedSha?: string | null;
  /** A question the agent ended with instead of changing anything: a person must answer it. */
  question?: string | null;
  /** How often the agent's context was trimmed to stay under its threshold (see context-manager). */
  context?: { clearings: number; compactions: number; clearedTokens: number } | null;
  /** When the model call in flight started; null between calls. */
  turnStartedAt?: string | null;
  /**
   * The Linear agent session that shows this task (delegation or @mention): its activities, plan
   * and external URLs replace the progress comment. Absent on records from before sessions.
   */
  session?: SessionRef | null;
  /**
   * When the label path began opening its own session (set before `agentSessionCreateOnIssue`,
   * cleared once its answer is recorded): Linear's `created` for that session can arrive before
   * the answer, and the ack waits for it rather than greet the task's own session.
   */
  sessionOpening?: string | null;
  /** The Linear workspace whose webhook asked for the work (the label path); a session names its own. */
  organizationId?: string | null;
  /** What the session already shows, so each publish posts only what changed (see status/session-publish). */
  sessionShown?: SessionShown | null;
  /** The open question of a `needs-input` task: which repository to work in (see jobs/repo-question). */
  repoQuestion?: RepoQuestion | null;
  /** The repository a person chose in the session: later attempts go there without asking again. */
  repoChoice?: RepoChoice | null;
  /** Triage's verdict before the first run (absent: not triaged, e.g. AGENT_TRIAGE=off). */
  triage?: Triage | null;
  /** Questions triage asked the humans, and their answers (appended to the spec). */
  clarification?: Clarification | null;
  /** A parent's plan of sub-issues (triage said `split`). */
  plan?: SplitPlan | null;
  /** A sub-issue's parent task. */
  parent?: ParentRef | null;
  /** State-transfer tokens a sub-issue received from others (brief, goal, dependency notes). */
  transfer?: Transfer | null;
  /** Why the task failed or stopped, in words a person can act on. */
  error: string | null;
  jobId: string | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  prOpenedAt: string | null;
  finishedAt: string | null;
}

/** A Linear agent session, and the workspace (organization) whose client serves it. */
export interface SessionRef {
  id: string;
  organizationId: string;
  /**
   * "label": the label path opened this session itself (app installed) to show its work; the
   * label stays the task's switch. Absent: Linear opened it (delegation or @mention).
   */
  openedBy?: "label";
  /** When Linear created the session (the webhook's `agentSession.createdAt`): an older session never takes over a newer one. */
  createdAt?: string;
}

/** Whether Linear asked for the work through a session (delegation, @mention), so no label is its switch. */
export function sessionAsked(task: Pick<Task, "session">): boolean {
  return Boolean(task.session) && task.session?.openedBy !== "label";
}

/** A `select` elicitation waiting for its answer: the repositories offered and why it asks. */
export interface RepoQuestion {
  /** owner/name, as the routing configuration spells them. */
  candidates: string[];
  /** Why routing could not decide, in words for the person answering. */
  why: string;
  /** What the elicitation is about (the asking job or the unmatched answer): it posts once per key. */
  key: string;
  askedAt: string;
  /** The last answer that matched no candidate (or several), to say so in the next elicitation. */
  unmatched?: { answer: string; among: string[] } | null;
}

/** A repository chosen in the session, remembered for the issue. */
export interface RepoChoice {
  /** owner/name */
  repo: string;
  chosenBy: string | null;
  chosenAt: string;
  /** The prompt activity that answered: a retried answer resumes without asking again. */
  activityId: string;
}

/** Keys of what a session already shows; activities are append-only, so each is posted once. */
export interface SessionShown {
  /** The session these keys belong to: a new session starts from nothing. */
  sessionId: string;
  plan?: string;
  thought?: string;
  checks?: string;
  push?: string;
  urls?: string[];
  ended?: string;
}

/** A job's pushed result, enough to finish its PR and Linear steps without rerunning the agent. */
export interface Landed {
  jobId: string;
  sha: string;
  /** The agent's report. */
  summary: string;
  /**
   * False while the commit is kept on the worker but not on the remote (its push was refused):
   * a retry, or the next job, pushes it instead of running the agent again. Absent means pushed.
   */
  pushed?: boolean;
  limitNote: string | null;
  /** Files the branch changed that the checks depend on: the PR body warns about them. */
  checkInputs?: string[];
  /** The last check run; output only when it failed (for the PR body). */
  checks: { command: string; passed: boolean; output: string | null } | null;
  /** Revisions: whether the pass committed, what it cost, and which answers are already posted. */
  revision?: {
    committed: boolean;
    pass: { turns: number; usage: Usage; costUsd: number };
    replied: number[];
    summaryPosted: boolean;
    /** The feedback this revision addressed: kept work answers these and nothing newer. */
    feedbackIds?: number[];
  };
}

const ACTIVE: TaskState[] = ["queued", "working", "checking", "revising"];

/** States in which an agent is queued or running for the task. */
export function isActive(state: TaskState): boolean {
  return ACTIVE.includes(state);
}

// A new attempt (the label added again) may start from any state but merged. A failed task whose
// PR is open takes review feedback like any other: a failed revision must not end the review loop.
// A revision can fail before it reaches `revising` (the PR cannot be read, say), so `pr-open` may
// fail too; and removing the label stops a failed task's review loop as it stops a `pr-open` one.
const ALLOWED: Record<TaskState, TaskState[]> = {
  queued: ["working", "failed", "stopped", "needs-input", "managing"],
  // An answer resumes the task (queued, then working); Stop or un-delegating ends the wait.
  "needs-input": ["queued", "working", "failed", "stopped", "managing"],
  // A parent runs no agent of its own; its children do. Failed: the plan could not be created.
  managing: ["done", "needs-input", "failed", "stopped", "queued"],
  // A human may reopen a finished parent (a sub-issue added or reopened).
  done: ["managing", "queued"],
  working: ["checking", "pr-open", "failed", "stopped", "queued", "needs-input", "managing"],
  checking: ["working", "revising", "pr-open", "failed", "stopped", "queued"],
  "pr-open": ["revising", "merged", "closed", "queued", "working", "stopped", "failed"],
  revising: ["checking", "working", "pr-open", "failed", "stopped", "merged", "closed", "queued"],
  merged: [],
  closed: ["queued", "working"],
  failed: ["queued", "working", "revising", "merged", "closed", "stopped", "managing"],
  stopped: ["queued", "working", "merged", "closed", "managing"],
};

/** Every state, for validating stored records. */
export const TASK_STATES = Object.keys(ALLOWED) as TaskState[];

/** Whether `from → to` is a legal move (staying put is always allowed). */
export function canTransition(from: TaskState, to: TaskState): boolean {
  return from === to || ALLOWED[from].includes(to);
}

/** A fresh task for an issue, before any agent ran. */
export function newTask(p: {
  issueId: string;
  identifier: string;
  title: string;
  issueUrl: string | null;
  now: string;
}): Task {
  return {
    schemaVersion: TASK_SCHEMA_VERSION,
    issueId: p.issueId,
    identifier: p.identifier,
    title: p.title,
    issueUrl: p.issueUrl,
    teamId: null,
    repo: null,
    branch: null,
    baseBranch: null,
    prNumber: null,
    prUrl: null,
    state: "queued",
    step: null,
    attempts: 0,
    revisions: 0,
    turns: 0,
    usage: { ...ZERO_USAGE },
    costUsd: 0,
    progressCommentId: null,
    handoff: null,
    checks: null,
    error: null,
    jobId: null,
    createdAt: p.now,
    updatedAt: p.now,
    startedAt: null,
    prOpenedAt: null,
    finishedAt: null,
  };
}

/** The Linear workspace whose client serves the task (the app acts per workspace); undefined: the default one. */
export function workspaceOf(task: Pick<Task, "session" | "organizationId">): string | undefined {
  return task.session?.organizationId ?? task.organizationId ?? undefined;
}
