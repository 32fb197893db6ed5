/** In-memory model of the GitHub resources the fake serves. */
import type { KeyObject } from "node:crypto";

export type Permission = "admin" | "maintain" | "write" | "triage" | "read" | "none";

export interface FakeRepo {
  owner: string;
  name: string;
  /** Returned as `clone_url`; a `file:///` URL or absolute path of a bare repository lets the fake read branch heads. */
  cloneUrl: string;
  defaultBranch?: string;
  private?: boolean;
  /** False answers a draft pull request with GitHub's 422, as on GitHub Free private repositories. */
  draftPullRequests?: boolean;
  /**
   * Serve the (local, bare) repository over smart HTTP at `${fake.url}/{owner}/{name}.git`, which
   * then becomes its `clone_url`; every git request needs a token, as on GitHub.
   */
  http?: boolean;
}

export interface RepoRecord {
  id: number;
  owner: string;
  name: string;
  cloneUrl: string;
  defaultBranch: string;
  private: boolean;
  draftsSupported: boolean;
  /** Local git dir derived from the given clone URL, or null when it is not local. */
  gitDir: string | null;
  /** True when the fake serves the repository over smart HTTP (cloneUrl is then the fake's URL). */
  http: boolean;
  nextNumber: number;
}

export interface PullRecord {
  id: number;
  repoKey: string;
  number: number;
  title: string;
  body: string | null;
  state: "open" | "closed";
  draft: boolean;
  merged: boolean;
  mergedAt: string | null;
  mergedBy: string | null;
  mergeCommitSha: string | null;
  closedAt: string | null;
  headOwner: string;
  headRef: string;
  /** Last known head commit (refreshed from git on every read while the branch exists). */
  headSha: string;
  baseRef: string;
  baseSha: string;
  user: string;
  maintainerCanModify: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface IssueCommentRecord {
  id: number;
  repoKey: string;
  issueNumber: number;
  body: string;
  user: string;
  createdAt: string;
  updatedAt: string;
}

export interface ReviewCommentRecord {
  id: number;
  repoKey: string;
  pullNumber: number;
  reviewId: number | null;
  inReplyToId: number | null;
  body: string;
  user: string;
  path: string;
  line: number | null;
  side: "LEFT" | "RIGHT";
  diffHunk: string;
  commitId: string;
  createdAt: string;
  updatedAt: string;
}

export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "PENDING" | "DISMISSED";

export interface ReviewRecord {
  id: number;
  repoKey: string;
  pullNumber: number;
  user: string;
  body: string;
  state: ReviewState;
  commitId: string;
  submittedAt: string | null;
}

export interface StatusRecord {
  id: number;
  repoKey: string;
  sha: string;
  state: "error" | "failure" | "pending" | "success";
  targetUrl: string | null;
  description: string | null;
  context: string;
  creator: string;
  createdAt: string;
  updatedAt: string;
}

export interface GitHubState {
  /** Keyed by lower-cased `owner/name` (GitHub names are case-insensitive). */
  repos: Map<string, RepoRecord>;
  pulls: PullRecord[];
  issueComments: IssueCommentRecord[];
  reviewComments: ReviewCommentRecord[];
  reviews: ReviewRecord[];
  statuses: StatusRecord[];
  /** repoKey → (lower-cased login → permission). */
  collaborators: Map<string, Map<string, Permission>>;
  /** Lower-cased organisation login → lower-cased member logins; members get the base permission "read". */
  orgMembers: Map<string, Set<string>>;
  /** token → login; the configured token maps to botLogin. */
  tokens: Map<string, string>;
  /** GitHub Apps by id (see enableApp). */
  apps: Map<number, AppRecord>;
  installations: Map<number, InstallationRecord>;
  /** Installation access token → what it may do and until when. */
  installationTokens: Map<string, InstallationTokenRecord>;
  /** Every App JWT the fake accepted, so leak tests can look for them. */
  appJwts: Set<string>;
  checkRuns: CheckRunRecord[];
  nextId: number;
}

export type AppPermissions = Record<string, "read" | "write">;

export interface AppRecord {
  id: number;
  slug: string;
  name: string;
  /** Verifies the App's RS256 JWTs. */
  publicKey: KeyObject;
  tokenTtlMs: number;
  botLogin: string;
  botUserId: number;
  /** Login of the account that registered the App. */
  owner: string;
  clientId: string;
  permissions: AppPermissions;
  events: string[];
  createdAt: string;
}

export interface InstallationRecord {
  id: number;
  appId: number;
  /** The account (user or organisation) the App is installed on. */
  account: string;
  accountType: "Organization" | "User";
  /** Lower-cased repository names the installation may reach, or "all" of the account's. */
  repos: string[] | "all";
  permissions: AppPermissions;
  createdAt: string;
}

export interface InstallationTokenRecord {
  installationId: number;
  expiresAt: number;
  /** Lower-cased repository names when the token was narrowed at creation, else null (the installation's). */
  repos: string[] | null;
  permissions: AppPermissions;
}

export interface CheckRunOutput {
  title: string | null;
  summary: string | null;
  text: string | null;
  annotationsCount: number;
}

export interface CheckRunRecord {
  id: number;
  repoKey: string;
  appId: number;
  checkSuiteId: number;
  name: string;
  headSha: string;
  status: "queued" | "in_progress" | "completed" | "waiting" | "requested" | "pending";
  conclusion: string | null;
  startedAt: string | null;
  completedAt: string | null;
  detailsUrl: string | null;
  externalId: string;
  output: CheckRunOutput;
  /** Creation order, for "latest" listing even within one second. */
  seq: number;
}

export function createState(): GitHubState {
  return {
    repos: new Map(),
    pulls: [],
    issueComments: [],
    reviewComments: [],
    reviews: [],
    statuses: [],
    collaborators: new Map(),
    orgMembers: new Map(),
    tokens: new Map(),
    apps: new Map(),
    installations: new Map(),
    installationTokens: new Map(),
    appJwts: new Set(),
    checkRuns: [],
    nextId: 1000,
  };
}

export function newId(state: GitHubState): number {
  state.nextId += 1;
  return state.nextId;
}

export function repoKey(owner: string, name: string): string {
  return `${owner}/${name}`.toLowerCase();
}

/** GitHub timestamps have second precision: 2024-01-01T00:00:00Z. */
export function timestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function findPull(state: GitHubState, key: string, number: number): PullRecord | undefined {
  return state.pulls.find((p) => p.repoKey === key && p.number === number);
}

/** Stable numeric id for a login so the same user always has the same id. */
export function userId(login: string): number {
  let h = 7;
  for (const ch of login.toLowerCase()) h = (h * 31 + ch.charCodeAt(0)) % 90_000_000;
  return 10_000_000 + h;
}

/** Whether an installation reaches the repository `owner/name`. */
export function installationCovers(inst: InstallationRecord, owner: string, name: string): boolean {
  if (inst.account.toLowerCase() !== owner.toLowerCase()) return false;
  return inst.repos === "all" || inst.repos.includes(name.toLowerCase());
}
