/**
 * One request to the GitHub fake: git over smart HTTP, or a REST call that is authenticated,
 * counted against its identity's rate limit, possibly failed on purpose, and routed.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { authenticate, type Identity, reaches } from "./auth.js";
import { type GitRequestRecord, serveGit } from "./git-http.js";
import { ApiError, type Ctx, DOCS, matchRoute, notFound, type Route, type RouteResult } from "./http.js";
import { acceptedPermissions, grants, requiredPermission } from "./permissions.js";
import type { RateLimiter } from "./rate-limit.js";
import type { GitHubState } from "./state.js";
import { userId } from "./state.js";

export type FailureKind = "secondary-rate-limit" | "rate-limit" | "server-error";

export interface Failure {
  kind: FailureKind;
  retryAfterSeconds: number;
  status: 403 | 429;
  route?: string;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/repos/acme/app/pulls`. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** Rate-limit identity the request authenticated as (`user:<login>`, `installation:<id>`, `app:<id>`), if any. */
  identity?: string;
}

export interface Dispatcher {
  state: GitHubState;
  routes: Route[];
  botLogin: string;
  /** Set once the server listens. */
  url: string;
  requests: RecordedRequest[];
  gitRequests: GitRequestRecord[];
  failures: Failure[];
  limiter: RateLimiter;
}

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

function send(res: ServerResponse, reqId: string, result: RouteResult, limitHeaders: Record<string, string> = {}): void {
  const headers: Record<string, string> = {
    "x-github-request-id": reqId,
    "x-github-api-version-selected": "2022-11-28",
    ...limitHeaders,
    ...result.headers,
  };
  if (result.status === 204 || result.body === undefined) {
    res.writeHead(result.status, headers).end();
    return;
  }
  headers["content-type"] = "application/json; charset=utf-8";
  res.writeHead(result.status, headers).end(JSON.stringify(result.body));
}

/** The next injected failure (failNext) for this route, as GitHub would answer it. */
function injectedFailure(d: Dispatcher, reqId: string, route: string): RouteResult | null {
  const at = d.failures.findIndex((x) => x.route === undefined || x.route === route);
  const f = at === -1 ? undefined : d.failures.splice(at, 1)[0];
  if (!f) return null;
  if (f.kind === "server-error") return { status: 502, body: { message: "Server Error" } };
  if (f.kind === "secondary-rate-limit") {
    const message =
      "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
      `If you reach out to GitHub Support for help, please include the request ID ${reqId}.`;
    const documentation_url =
      "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";
    return { status: 403, body: { message, documentation_url }, headers: { "retry-after": String(f.retryAfterSeconds) } };
  }
  const reset = String(Math.ceil(Date.now() / 1000) + f.retryAfterSeconds);
  const message = `API rate limit exceeded for user ID ${userId(d.botLogin)}. If you reach out to GitHub Support for help, please include the request ID ${reqId}.`;
  const documentation_url = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit";
  return {
    status: f.status,
    body: { message, documentation_url },
    headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset },
  };
}

/** Refuses credentials the route does not take, and repositories an installation token does not reach or lacks the permission for. */
function checkAccess(route: Route, identity: Identity, params: Record<string, string>, method: string, pathname: string): void {
  if (route.auth === "app") {
    if (identity.kind !== "app") throw new ApiError(401, "A JSON web token could not be decoded");
    return;
  }
  if (identity.kind === "app") throw new ApiError(403, "Resource not accessible by integration");
  if (route.auth === "installation" && identity.kind !== "installation") {
    throw new ApiError(403, "Resource not accessible by personal access token");
  }
  if (params.owner !== undefined && params.repo !== undefined && !reaches(identity, params.owner, params.repo)) {
    throw notFound();
  }
  if (identity.kind !== "installation") return;
  const need = requiredPermission(method, pathname);
  if (need && !grants(identity.token.permissions, need)) {
    throw new ApiError(403, "Resource not accessible by integration", undefined, DOCS, {
      "x-accepted-github-permissions": acceptedPermissions(need),
    });
  }
}

async function parseBody(req: IncomingMessage): Promise<{ ok: true; body: unknown } | { ok: false; raw: string }> {
  const raw = await readBody(req);
  try {
    return { ok: true, body: raw ? JSON.parse(raw) : undefined };
  } catch {
    return { ok: false, raw };
  }
}

export async function dispatch(d: Dispatcher, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parsed = new URL(req.url ?? "/", d.url);
  if (serveGit(req, res, parsed, d.state, d.gitRequests)) return;
  const reqId = requestId();
  const method = req.method ?? "GET";
  const query = Object.fromEntries(parsed.searchParams);
  const body = await parseBody(req);
  const recorded: RecordedRequest = { method, path: parsed.pathname, query, body: body.ok ? body.body : body.raw };
  d.requests.push(recorded);
  if (!body.ok) {
    send(res, reqId, { status: 400, body: { message: "Problems parsing JSON", documentation_url: "https://docs.github.com/rest" } });
    return;
  }
  let identity: Identity;
  try {
    identity = authenticate(d.state, req.headers.authorization, Date.now());
  } catch (err) {
    const e = err instanceof ApiError ? err : new ApiError(401, "Bad credentials");
    send(res, reqId, { status: e.status, body: e.toBody() });
    return;
  }
  recorded.identity = identity.key;
  const limit = d.limiter.take(identity, reqId, Date.now());
  if (limit.refusal) {
    send(res, reqId, limit.refusal);
    return;
  }
  const failed = injectedFailure(d, reqId, `${method} ${parsed.pathname}`);
  if (failed) {
    send(res, reqId, failed, limit.headers);
    return;
  }
  try {
    const match = matchRoute(d.routes, method, parsed.pathname);
    if (!match) throw notFound();
    checkAccess(match.route, identity, match.params, method, parsed.pathname);
    const ctx: Ctx = {
      state: d.state,
      apiUrl: d.url,
      login: identity.login,
      identity,
      botLogin: d.botLogin,
      params: match.params,
      query: parsed.searchParams,
      body: body.body && typeof body.body === "object" ? (body.body as Record<string, unknown>) : {},
      pathname: parsed.pathname,
    };
    send(res, reqId, await match.route.handler(ctx), limit.headers);
  } catch (err) {
    if (err instanceof ApiError) send(res, reqId, { status: err.status, body: err.toBody(), headers: err.headers }, limit.headers);
    else send(res, reqId, { status: 500, body: { message: `GitHub fake error: ${(err as Error).message}` } }, limit.headers);
  }
}
