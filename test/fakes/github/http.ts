/** Routing, errors and pagination shared by the GitHub fake's route modules. */
import type { Identity } from "./auth.js";
import type { GitHubState, RepoRecord } from "./state.js";
import { repoKey } from "./state.js";

export const DOCS = "https://docs.github.com/rest";

export interface Ctx {
  state: GitHubState;
  /** Base URL of the fake, used where GitHub returns api.github.com URLs. */
  apiUrl: string;
  /** Login the request authenticated as (`<slug>[bot]` for an installation token or App JWT). */
  login: string;
  identity: Identity;
  botLogin: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  pathname: string;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (ctx: Ctx) => RouteResult | Promise<RouteResult>;

/** Which credentials a route takes: a user or installation token (default), an App JWT, or an installation token only. */
export type RouteAuth = "token" | "app" | "installation";

export interface Route {
  method: string;
  regex: RegExp;
  names: string[];
  handler: Handler;
  auth: RouteAuth;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: unknown[],
    readonly documentationUrl: string = DOCS,
    /** Response headers GitHub sends with this error (e.g. x-accepted-github-permissions). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): Record<string, unknown> {
    const body: Record<string, unknown> = { message: this.message };
    if (this.errors) body.errors = this.errors;
    body.documentation_url = this.documentationUrl;
    body.status = String(this.status);
    return body;
  }
}

export function notFound(): ApiError {
  return new ApiError(404, "Not Found");
}

export function validationFailed(errors: unknown[], docs: string = DOCS): ApiError {
  return new ApiError(422, "Validation Failed", errors, docs);
}

export function route(method: string, pattern: string, handler: Handler, auth: RouteAuth = "token"): Route {
  const names: string[] = [];
  const source = pattern.replace(/:(\w+)/g, (_m, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  return { method, regex: new RegExp(`^${source}/?$`), names, handler, auth };
}

export function matchRoute(
  routes: Route[],
  method: string,
  pathname: string,
): { route: Route; params: Record<string, string> } | null {
  for (const r of routes) {
    if (r.method !== method) continue;
    const m = r.regex.exec(pathname);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.names.forEach((name, i) => {
      params[name] = decodeURIComponent(m[i + 1] ?? "");
    });
    return { route: r, params };
  }
  return null;
}

export function getRepo(ctx: Ctx): RepoRecord {
  const repo = ctx.state.repos.get(repoKey(ctx.params.owner ?? "", ctx.params.repo ?? ""));
  if (!repo) throw notFound();
  return repo;
}

export function intParam(ctx: Ctx, name: string): number {
  const raw = ctx.params[name] ?? "";
  if (!/^\d+$/.test(raw)) throw notFound();
  return Number(raw);
}

export function str(ctx: Ctx, field: string): string | undefined {
  const v = ctx.body[field];
  return typeof v === "string" ? v : undefined;
}

/** Slices per `page`/`per_page` (default 30, max 100) and builds a Link header as GitHub does. */
export function paginate<T>(ctx: Ctx, items: T[]): { items: T[]; headers: Record<string, string> } {
  const perPage = Math.min(100, Math.max(1, Number(ctx.query.get("per_page") ?? 30) || 30));
  const page = Math.max(1, Number(ctx.query.get("page") ?? 1) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const link = (p: number, rel: string) => {
    const q = new URLSearchParams(ctx.query);
    q.set("per_page", String(perPage));
    q.set("page", String(p));
    return `<${ctx.apiUrl}${ctx.pathname}?${q.toString()}>; rel="${rel}"`;
  };
  const rels: string[] = [];
  if (page < last) rels.push(link(page + 1, "next"), link(last, "last"));
  if (page > 1) rels.push(link(1, "first"), link(page - 1, "prev"));
  return { items: slice, headers: rels.length ? { link: rels.join(", ") } : {} };
}

export function listResult<T>(ctx: Ctx, items: T[], map: (item: T) => unknown): RouteResult {
  const { items: page, headers } = paginate(ctx, items);
  return { status: 200, body: page.map(map), headers };
}
