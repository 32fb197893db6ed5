/**
 * Loopback fake of the GitHub REST API for the real `@octokit/rest` client:
 * `new Octokit({ auth: fake.token, baseUrl: fake.url })`.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gitDirFromCloneUrl } from "./git.js";
import { ApiError, type Ctx, matchRoute, notFound, type RouteResult } from "./http.js";
import { graphqlRoutes } from "./routes-graphql.js";
import { markMerged, pullRoutes } from "./routes-pulls.js";
import { insertIssueComment, repoRoutes } from "./routes-repos.js";
import { insertReview, insertReviewComment, reviewRoutes } from "./routes-reviews.js";
import type { FakeRepo, GitHubState, Permission, PullRecord, ReviewState } from "./state.js";
import { createState, findPull, newId, repoKey, userId } from "./state.js";

export type { FakeRepo, GitHubState, Permission } from "./state.js";

export type FailureKind = "secondary-rate-limit" | "rate-limit" | "server-error";

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/repos/acme/app/pulls`. */
  path: string;
  query: Record<string, string>;
  body: unknown;
}

export interface GitHubFake {
  url: string;
  token: string;
  botLogin: string;
  state: GitHubState;
  requests: RecordedRequest[];
  addRepo(repo: FakeRepo): void;
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

const ROUTES = [...reviewRoutes(), ...pullRoutes(), ...repoRoutes(), ...graphqlRoutes()];
const RATE_LIMIT = 5000;

function requestId(): string {
  const h = randomBytes(16).toString("hex").toUpperCase();
  return `${h.slice(0, 4)}:${h.slice(4, 8)}:${h.slice(8, 14)}:${h.slice(14, 20)}:${h.slice(20, 28)}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startGitHubFake(opts: { token?: string; botLogin?: string } = {}): Promise<GitHubFake> {
  const token = opts.token ?? `ghs_fake${randomBytes(12).toString("hex")}`;
  const botLogin = opts.botLogin ?? "agent-workforce-bot";
  const state = createState();
  state.tokens.set(token, botLogin);
  const requests: RecordedRequest[] = [];
  const failures: Array<{ kind: FailureKind; retryAfterSeconds: number; status: 403 | 429; route?: string }> = [];
  const resetAt = Math.floor(Date.now() / 1000) + 3600;
  let used = 0;
  let url = "";

  function send(res: ServerResponse, reqId: string, result: RouteResult, remaining?: number): void {
    const headers: Record<string, string> = {
      "x-github-request-id": reqId,
      "x-github-api-version-selected": "2022-11-28",
      "x-ratelimit-limit": String(RATE_LIMIT),
      "x-ratelimit-remaining": String(remaining ?? Math.max(0, RATE_LIMIT - used)),
      "x-ratelimit-reset": String(resetAt),
      "x-ratelimit-used": String(used),
      "x-ratelimit-resource": "core",
      ...result.headers,
    };
    if (result.status === 204 || result.body === undefined) {
      res.writeHead(result.status, headers).end();
      return;
    }
    headers["content-type"] = "application/json; charset=utf-8";
    res.writeHead(result.status, headers).end(JSON.stringify(result.body));
  }

  function failure(reqId: string, route: string): { result: RouteResult; remaining?: number } | null {
    const at = failures.findIndex((x) => x.route === undefined || x.route === route);
    const f = at === -1 ? undefined : failures.splice(at, 1)[0];
    if (!f) return null;
    if (f.kind === "server-error") return { result: { status: 502, body: { message: "Server Error" } } };
    if (f.kind === "secondary-rate-limit") {
      const message =
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
        `If you reach out to GitHub Support for help, please include the request ID ${reqId}.`;
      const documentation_url =
        "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";
      return {
        result: {
          status: 403,
          body: { message, documentation_url },
          headers: { "retry-after": String(f.retryAfterSeconds) },
        },
      };
    }
    const reset = String(Math.ceil(Date.now() / 1000) + f.retryAfterSeconds);
    const message = `API rate limit exceeded for user ID ${userId(botLogin)}. If you reach out to GitHub Support for help, please include the request ID ${reqId}.`;
    const documentation_url =
      "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit";
    return {
      result: {
        status: f.status,
        body: { message, documentation_url },
        headers: { "x-ratelimit-reset": reset },
      },
      remaining: 0,
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reqId = requestId();
    const parsed = new URL(req.url ?? "/", url);
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      requests.push({
        method,
        path: parsed.pathname,
        query: Object.fromEntries(parsed.searchParams),
        body: raw,
      });
      send(res, reqId, {
        status: 400,
        body: { message: "Problems parsing JSON", documentation_url: "https://docs.github.com/rest" },
      });
      return;
    }
    requests.push({ method, path: parsed.pathname, query: Object.fromEntries(parsed.searchParams), body });
    const auth = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    const login = auth ? state.tokens.get(auth[1] ?? "") : undefined;
    if (!login) {
      send(res, reqId, {
        status: 401,
        body: {
          message: "Bad credentials",
          documentation_url: "https://docs.github.com/rest",
          status: "401",
        },
      });
      return;
    }
    used += 1;
    const failed = failure(reqId, `${method} ${parsed.pathname}`);
    if (failed) {
      send(res, reqId, failed.result, failed.remaining);
      return;
    }
    const match = matchRoute(ROUTES, method, parsed.pathname);
    try {
      if (!match) throw notFound();
      const ctx: Ctx = {
        state,
        apiUrl: url,
        login,
        botLogin,
        params: match.params,
        query: parsed.searchParams,
        body: body && typeof body === "object" ? (body as Record<string, unknown>) : {},
        pathname: parsed.pathname,
      };
      send(res, reqId, await match.route.handler(ctx));
    } catch (err) {
      if (err instanceof ApiError) send(res, reqId, { status: err.status, body: err.toBody() });
      else
        send(res, reqId, { status: 500, body: { message: `GitHub fake error: ${(err as Error).message}` } });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500).end(err.message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

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
    requests,
    addRepo(repo) {
      const key = repoKey(repo.owner, repo.name);
      state.repos.set(key, {
        id: newId(state),
        owner: repo.owner,
        name: repo.name,
        cloneUrl: repo.cloneUrl,
        defaultBranch: repo.defaultBranch ?? "main",
        private: repo.private ?? false,
        draftsSupported: repo.draftPullRequests ?? true,
        gitDir: gitDirFromCloneUrl(repo.cloneUrl),
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
        failures.push({ kind, retryAfterSeconds: o.retryAfterSeconds ?? 1, status: o.status ?? 403, route: o.route });
      }
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
