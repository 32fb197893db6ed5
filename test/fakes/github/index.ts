/**
 * Loopback fake of the GitHub REST API for the real `@octokit/rest` client:
 * `new Octokit({ auth: fake.token, baseUrl: fake.url })`, or as a GitHub App after
 * `enableApp` + `installApp`: `new Octokit({ authStrategy: createAppAuth, auth: { appId, privateKey, installationId }, baseUrl: fake.url })`.
 * Repositories added with `http: true` are also served to git over smart HTTP.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { activityControls, appControls, repoControls } from "./controls.js";
import { type Dispatcher, dispatch, type FailureKind, type RecordedRequest } from "./dispatch.js";
import type { EnableAppOptions, EnabledApp, InstallAppOptions } from "./apps.js";
import type { GitRequestRecord } from "./git-http.js";
import { RateLimiter, type RateLimitSettings } from "./rate-limit.js";
import { appRoutes } from "./routes-app.js";
import { checkRoutes } from "./routes-checks.js";
import { graphqlRoutes } from "./routes-graphql.js";
import { pullRoutes } from "./routes-pulls.js";
import { repoRoutes } from "./routes-repos.js";
import { reviewRoutes } from "./routes-reviews.js";
import type { FakeRepo, GitHubState, Permission, ReviewState } from "./state.js";
import { createState } from "./state.js";

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

/** Serves the dispatcher on a loopback port; resolves once it listens, with its URL and a close. */
async function listen(d: Dispatcher): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    dispatch(d, req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500).end(err.message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
  return { url, close };
}

/** Starts the fake on a loopback port; `token` (default a fresh one) acts as `botLogin`. */
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
  const { url, close } = await listen(d);
  d.url = url;
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
    ...repoControls(state, url, botLogin),
    ...activityControls(state),
    ...appControls(state, url),
    failNext(n, kind, o = {}) {
      for (let i = 0; i < n; i++) {
        d.failures.push({ kind, retryAfterSeconds: o.retryAfterSeconds ?? 1, status: o.status ?? 403, route: o.route });
      }
    },
    setRateLimit: (settings) => d.limiter.set(settings),
    close,
  };
}
