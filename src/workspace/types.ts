import type { Logger } from "pino";

/** A GitHub repository, as owner and name. */
export interface RepoRef {
  owner: string;
  name: string;
}

/** Settings for a Workspace; the caller owns the environment, nothing is read from the process environment. */
export interface WorkspaceOptions {
  dataDir: string;
  /** environment for git processes, e.g. { PATH, HOME, LANG }; never receives the token */
  baseEnv: Record<string, string>;
  logger?: Logger;
  /** limit for one git command; default 10 min */
  gitTimeoutMs?: number;
  /** finished trees kept per repository for reuse (parked.ts); default DEFAULT_PARKED, 0 deletes them */
  maxParked?: number;
  /** how long a finished job's tree stays parked before another job reuses it; default PARK_SETTLE_MS */
  parkSettleMs?: number;
}

/** A job's checkout of one branch, backed by the repository's shared mirror. */
export interface Worktree {
  readonly path: string;
  readonly branch: string;
  readonly baseBranch: string;
  /** true when the branch already existed on the remote (a retry or a revision) */
  readonly resumed: boolean;
  /** commit the worktree started from */
  readonly startSha: string;
  /** true when it started from commits an earlier job kept but could not push (see createWorktree's resumeFrom) */
  readonly unpushed: boolean;
  /** The mirror and this worktree's admin directory in it: what git inside the worktree reads. */
  readonly gitPaths: { readonly mirror: string; readonly adminDir: string };
  /** stages everything and commits as the given identity (kept in the mirror until pushed); null when there is nothing to commit */
  commitAll(p: {
    message: string;
    author: { name: string; email: string };
    signal?: AbortSignal;
  }): Promise<string | null>;
  /** pushes HEAD to the branch, merging (never force-pushing) commits others added; pushed false when the remote already has this sha */
  push(p: { token?: string; signal?: AbortSignal }): Promise<{ sha: string; pushed: boolean }>;
  /** `git diff origin/<base>...HEAD` (text), optionally capped in characters */
  diffAgainstBase(p?: { maxChars?: number }): Promise<string>;
  /** files changed relative to origin/<base> (name-only) */
  changedFiles(): Promise<string[]>;
  /** commits on HEAD not on origin/<base>: { sha, subject }[] */
  commitsAhead(): Promise<Array<{ sha: string; subject: string }>>;
  /** true if the working tree has uncommitted changes */
  isDirty(): Promise<boolean>;
  /** deletes the worktree; safe to call twice, never throws */
  remove(): Promise<void>;
}
