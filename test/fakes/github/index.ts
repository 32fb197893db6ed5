/**
 * Loopback fake of the GitHub REST API for the real `@octokit/rest` client:
 * `new Octokit({ auth: fake.token, baseUrl: fake.url })`, or as a GitHub App after
 * `enableApp` + `installApp`: `new Octokit({ authStrategy: createAppAuth, auth: { appId, privateKey, installationId }, baseUrl: fake.url })`.
 * Repositories added with `http: true` are also served to git over smart HTTP.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type EnableAppOptions,
  type EnabledApp,
  enableApp,
  expireInstallationTokens,
  type InstallAppOptions,
  installApp,
  setInstallationRepos,
  uninstallApp,
} from "./apps.js";
import { type Dispatcher, dispatch, type FailureKind, type RecordedRequest } from "./dispatch.js";
import { gitDirFromCloneUrl } from "./git.js";
import type { GitRequestRecord } from "./git-http.js";
import { RateLimiter, type RateLimitSettings } from "./rate-limit.js";
import { appRoutes } from "./routes-app.js";
import { checkRunObject, checkRoutes } from "./routes-checks.js";
import { graphqlRoutes } from "./routes-graphql.js";
import { markMerged, pullRoutes } from "./routes-pulls.js";
import { insertIssueComment, repoRoutes } from "./routes-repos.js";
import { insertReview, insertReviewComment, reviewRoutes } from "./routes-reviews.js";
import type { FakeRepo, GitHubState, Permission, PullRecord, ReviewState } from "./state.js";
import { createState, findPull, newId, repoKey } from "./state.js";

export type { EnableAppOptions, EnabledApp, InstallAppOptions } from "./apps.js";
export type { FailureKind, RecordedRequest } from "./dispatch.js";
export type { GitRequestRecord } from "./git-http.js";
export type { RateLimitSettings } from "./rate-limit.js";
export type { AppPermissions, FakeRepo, GitHubState, Permission } from "./state.js";

export interface GitHubFake {
  url: string;
  token: string;
  botLogin: string;
  state: GitHubState;
  requests: RecordedRequest[];
  /** Smart HTTP requests to repositories added with `http: true`, refused ones included. */
  gitRequests: GitRequestRecord[];
  /** Requests refused for the primary rate limit set with setRateLimit. */
  readonly rateLimitExceeded: number;
  /** `http: true` serves the bare repository behind `cloneUrl` at `${url}/{owner}/{name}.git`, which becomes its clone_url. */
  addRepo(repo: FakeRepo): void;
  /** Registers a GitHub App whose RS256 JWTs are verified with `publicKeyPem`; it acts as `<slug>[bot]`. */
  enableApp(app: EnableAppOptions): EnabledApp;
  /** Installs the (last enabled) App on `owner`, for all its repositories or `repos` only. */
  installApp(owner: string, opts?: InstallAppOptions): { installationId: number };
  /** Every installation token issued so far expires now: GitHub answers 401 "Bad credentials". */
  expireInstallationTokens(): void;
  /** Uninstalls: the installation's tokens answer 401 "Bad credentials", minting one and GET /repos/{o}/{r}/installation 404. */
  uninstallApp(installationId: number): void;
  /** Changes the installation's repository selection; repositories left out answer 404 to its tokens and its lookup. */
  setInstallationRepos(installationId: number, repos: string[] | "all"): void;
  /** Check runs created on `owner/repo`, oldest first, as GitHub serialises them. */
  checkRuns(owner: string, repo: string): Array<Record<string, unknown>>;
  /** Enforces GitHub's primary rate limit: `limit` requests per `windowMs` per token identity (per installation for App tokens). */
  setRateLimit(settings: RateLimitSettings): void;
  setPermission(owner: string, repo: string, login: string, permission: Permission): void;
  /** Makes `login` a member of organisation `org`: webhooks and comments call them MEMBER, and they read its repositories (base permission "read"). */
  addOrgMember(org: string, login: string): void;
  /** `false` refuses draft pull requests with GitHub's 422, as a GitHub Free private repository does. */
  setDraftsSupported(owner: string, repo: string, supported: boolean): void;
  /** Simulates an inline comment a human left; a COMMENTED review is created unless `pull_request_review_id` is given. */
  addReviewComment(
    owner: string,
    repo: string,
    pullNumber: number,
    c: {
      user: string;
      body: string;
      path: string;
      line: number;
      diff_hunk?: string;
      pull_request_review_id?: number;
    },
  ): { id: number };
  /** Simulates a conversation comment a human left on a pull request. */
  addIssueComment(
    owner: string,
    repo: string,
    number: number,
    c: { user: string; body: string },
  ): { id: number };
  /** Simulates a submitted review by someone other than the token's user. */
  addReview(
    owner: string,
    repo: string,
    pullNumber: number,
    r: { user: string; state: Exclude<ReviewState, "PENDING">; body?: string },
  ): { id: number };
  /** Registers another token so a second Octokit can act as a different user (e.g. a human reviewer). */
  addToken(token: string, login: string): void;
  mergePull(owner: string, repo: string, number: number): void;
  /** The next `n` requests fail; with `opts.route` ("POST /repos/o/r/issues/1/comments") only requests to it. */
  failNext(n: number, kind: FailureKind, opts?: { retryAfterSeconds?: number; status?: 403 | 429; route?: string }): void;
  close(): Promise<void>;
}

const ROUTES = [
  ...appRoutes(),
  ...checkRoutes(),
  ...reviewRoutes(),
  ...pullRoutes(),
  ...repoRoutes(),
  ...graphqlRoutes(),
];

export async function startGitHubFake(opts: { token?: string; botLogin?: string } = {}): Promise<GitHubFake> {
  const token = opts.token ?? `ghs_fake${randomBytes(12).toString("hex")}`;
  const botLogin = opts.botLogin ?? "agent-workforce-bot";
  const state = createState();
  state.tokens.set(token, botLogin);
  const d: Dispatcher = {
    state,
    routes: ROUTES,
    botLogin,
    url: "",
    requests: [],
    gitRequests: [],
    failures: [],
    limiter: new RateLimiter(),
  };

  const server = createServer((req, res) => {
    dispatch(d, req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500).end(err.message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  d.url = url;

  const requirePullRecord = (owner: string, repo: string, number: number): PullRecord => {
    const pull = findPull(state, repoKey(owner, repo), number);
    if (!pull) throw new Error(`GitHub fake: no pull request ${owner}/${repo}#${number}`);
    return pull;
  };

  return {
    url,
    token,
    botLogin,
    state,
    requests: d.requests,
    gitRequests: d.gitRequests,
    get rateLimitExceeded() {
      return d.limiter.exceeded;
    },
    addRepo(repo) {
      const key = repoKey(repo.owner, repo.name);
      const gitDir = gitDirFromCloneUrl(repo.cloneUrl);
      if (repo.http && !gitDir) {
        throw new Error(`GitHub fake: http: true needs a local bare repository as cloneUrl, got ${repo.cloneUrl}`);
      }
      state.repos.set(key, {
        id: newId(state),
        owner: repo.owner,
        name: repo.name,
        cloneUrl: repo.http ? `${url}/${repo.owner}/${repo.name}.git` : repo.cloneUrl,
        defaultBranch: repo.defaultBranch ?? "main",
        private: repo.private ?? false,
        draftsSupported: repo.draftPullRequests ?? true,
        gitDir,
        http: repo.http ?? false,
        nextNumber: 1,
      });
      const perms = new Map<string, Permission>([[repo.owner.toLowerCase(), "admin"]]);
      if (!perms.has(botLogin.toLowerCase())) perms.set(botLogin.toLowerCase(), "write");
      state.collaborators.set(key, perms);
    },
    setPermission(owner, repo, login, permission) {
      const key = repoKey(owner, repo);
      const perms = state.collaborators.get(key) ?? new Map<string, Permission>();
      perms.set(login.toLowerCase(), permission);
      state.collaborators.set(key, perms);
    },
    addOrgMember(org, login) {
      const members = state.orgMembers.get(org.toLowerCase()) ?? new Set<string>();
      members.add(login.toLowerCase());
      state.orgMembers.set(org.toLowerCase(), members);
    },
    setDraftsSupported(owner, repo, supported) {
      const record = state.repos.get(repoKey(owner, repo));
      if (!record) throw new Error(`GitHub fake: no repository ${owner}/${repo}; call addRepo first`);
      record.draftsSupported = supported;
    },
    addReviewComment(owner, repo, pullNumber, c) {
      const pull = requirePullRecord(owner, repo, pullNumber);
      const record = insertReviewComment(state, pull, {
        user: c.user,
        body: c.body,
        path: c.path,
        line: c.line,
        diffHunk: c.diff_hunk,
        reviewId: c.pull_request_review_id ?? null,
      });
      return { id: record.id };
    },
    addIssueComment(owner, repo, number, c) {
      requirePullRecord(owner, repo, number);
      return { id: insertIssueComment({ state }, repoKey(owner, repo), number, c.user, c.body).id };
    },
    addReview(owner, repo, pullNumber, r) {
      const pull = requirePullRecord(owner, repo, pullNumber);
      return { id: insertReview(state, pull, { user: r.user, body: r.body ?? "", state: r.state }).id };
    },
    addToken(extraToken, login) {
      state.tokens.set(extraToken, login);
    },
    mergePull(owner, repo, number) {
      const pull = requirePullRecord(owner, repo, number);
      if (!pull.merged) markMerged(pull, owner);
    },
    failNext(n, kind, o = {}) {
      for (let i = 0; i < n; i++) {
        d.failures.push({ kind, retryAfterSeconds: o.retryAfterSeconds ?? 1, status: o.status ?? 403, route: o.route });
      }
    },
    enableApp: (app) => enableApp(state, app),
    installApp: (owner, o) => installApp(state, owner, o),
    expireInstallationTokens: () => expireInstallationTokens(state, Date.now()),
    uninstallApp: (id) => uninstallApp(state, id),
    setInstallationRepos: (id, repos) => setInstallationRepos(state, id, repos),
    checkRuns(owner, repo) {
      const record = state.repos.get(repoKey(owner, repo));
      if (!record) throw new Error(`GitHub fake: no repository ${owner}/${repo}; call addRepo first`);
      return state.checkRuns
        .filter((r) => r.repoKey === repoKey(owner, repo))
        .map((r) => checkRunObject(state, record, r, url));
    },
    setRateLimit: (settings) => d.limiter.set(settings),
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
