import type { Usage } from "./task.js";

// What triage decided for a task, the questions it asked, and, for large work, the manager's plan
// of sub-issues and each sub-issue's link to its parent. Plain data on the task record (Redis):
// every decision the manager takes is re-derived from these, so a crash forgets nothing.

/** Triage's answer: start, ask the humans first, or split into sub-issues. */
export type TriageVerdict = "ready" | "clarify" | "split";

/** One triage call's verdict, recorded on the task (dashboard, Linear, PR body). */
export interface Triage {
  verdict: TriageVerdict;
  /** What the work will be checked against; the agent's report answers each. */
  criteria: string[];
  size: "small" | "medium" | "large";
  rationale: string;
  /** `clarify`: what the humans must answer before any code. */
  questions: string[];
  model: string;
  usage: Usage;
  costUsd: number;
  /** 0 for the first triage; 1 after an answer (re-triage happens at most once). */
  round: number;
  at: string;
}

/** A human's answer to a question the service asked (clarification or plan approval). */
export interface HumanAnswer {
  /** The Linear comment or prompt activity that carried it: each is taken once. */
  id: string;
  body: string;
  author: string | null;
  at: string;
}

/** Questions asked before any code (triage said `clarify`), and their answers. */
export interface Clarification {
  questions: string[];
  askedAt: string;
  /** Label path: the Linear comment that asks (a reply to it answers); null in a session. */
  commentId: string | null;
  /** Who the question is addressed to (the issue's creator), for the comment. */
  askedOf: string | null;
  /** Open until answered; answers are appended to the spec of the resumed run. */
  open: boolean;
  answers: HumanAnswer[];
}

/** One sub-issue as the manager planned it. `key` is stable across revisions ("s1", "s2", …). */
export interface SubtaskSpec {
  key: string;
  title: string;
  /** A self-contained brief: the child agent sees this, never the manager's conversation. */
  brief: string;
  criteria: string[];
  /** Files or areas the sub-issue owns. */
  owns: string[];
  /** Keys of the sub-issues that must be merged before this one starts. */
  dependsOn: string[];
}

/** A planned sub-issue and, once created, the Linear issue that carries it. */
export interface PlannedSubtask extends SubtaskSpec {
  issueId: string | null;
  identifier: string | null;
  /** A human cancelled it, deleted it or took it out of the parent in Linear: it no longer blocks anything. */
  dropped?: "canceled" | "removed" | null;
}

/** The manager's plan for a `split` task, on the parent's record. */
export interface SplitPlan {
  /** proposed: waiting for approval; creating: sub-issues being created; created: running. */
  status: "proposed" | "creating" | "created";
  /** The parent's goal in one paragraph: every child's prompt carries it. */
  goal: string;
  /** The interfaces the sub-issues agree on (names, signatures, files), for every child's prompt. */
  interfaces: string;
  subtasks: PlannedSubtask[];
  /** How often a human's changes revised the plan (at most once). */
  revisions: number;
  /** Label path: the comment that asks for approval (a reply to it answers). */
  approvalCommentId: string | null;
  proposedAt: string;
  approvedBy: string | null;
  createdAt: string | null;
  /** The roll-up comment on the parent, edited in place. */
  rollupCommentId: string | null;
  /** Caps the whole tree's spend (manager and children). */
  budgetUsd: number;
  /** Set once the tree budget stopped new children, saying so. */
  budgetStoppedAt: string | null;
  /** The manager's own model calls (triage and planning). */
  manager: { usage: Usage; costUsd: number };
  /** Answers already taken for this plan (approval or changes), by id. */
  answered: string[];
}

/** A sub-issue's link to its parent task. */
export interface ParentRef {
  issueId: string;
  identifier: string;
  /** The subtask's key in the parent's plan. */
  key: string;
}

/**
 * Tokens a child received from others (its brief, the parent's goal and interfaces, and its
 * blockers' hand-off notes): the cost of state transfer, counted apart from its own work.
 */
export interface Transfer {
  tokens: number;
  brief: number;
  notes: number;
}
