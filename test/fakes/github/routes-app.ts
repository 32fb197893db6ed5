/** GitHub App endpoints: the App (JWT), its installations, installation tokens, and the bot user. */
import { appObject, installationObject, mintInstallationToken } from "./apps.js";
import type { Ctx, Route, RouteResult } from "./http.js";
import { ApiError, intParam, listResult, notFound, paginate, route } from "./http.js";
import { repoObject, userObject } from "./serializers.js";
import type { AppPermissions, AppRecord, InstallationRecord, RepoRecord } from "./state.js";
import { installationCovers, repoKey } from "./state.js";

const TOKEN_DOCS = "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app";
const LEVELS = ["read", "write"];

function requireApp(ctx: Ctx): AppRecord {
  if (ctx.identity.kind !== "app") throw new ApiError(401, "A JSON web token could not be decoded");
  return ctx.identity.app;
}

function appInstallations(ctx: Ctx): InstallationRecord[] {
  const app = requireApp(ctx);
  return [...ctx.state.installations.values()].filter((i) => i.appId === app.id);
}

function requireInstallation(ctx: Ctx): InstallationRecord {
  const id = intParam(ctx, "installation_id");
  const inst = appInstallations(ctx).find((i) => i.id === id);
  if (!inst) throw notFound();
  return inst;
}

/** Repositories of the fake an installation reaches, in creation order. */
export function installationRepos(ctx: Ctx, inst: InstallationRecord): RepoRecord[] {
  return [...ctx.state.repos.values()].filter((r) => installationCovers(inst, r.owner, r.name));
}

function getApp(ctx: Ctx): RouteResult {
  return { status: 200, body: appObject(ctx.state, requireApp(ctx), ctx.apiUrl) };
}

function listInstallations(ctx: Ctx): RouteResult {
  return listResult(ctx, appInstallations(ctx), (i) => installationObject(ctx.state, i, ctx.apiUrl));
}

function getInstallation(ctx: Ctx): RouteResult {
  return { status: 200, body: installationObject(ctx.state, requireInstallation(ctx), ctx.apiUrl) };
}

/** GET /repos/{o}/{r}/installation: 404 when the repository is not among the installation's. */
function repoInstallation(ctx: Ctx): RouteResult {
  const owner = ctx.params.owner ?? "";
  const name = ctx.params.repo ?? "";
  const insts = appInstallations(ctx);
  if (!ctx.state.repos.has(repoKey(owner, name))) throw notFound();
  const inst = insts.find((i) => installationCovers(i, owner, name));
  if (!inst) throw notFound();
  return { status: 200, body: installationObject(ctx.state, inst, ctx.apiUrl) };
}

/** GET /orgs/{org}/installation and /users/{username}/installation. */
function accountInstallation(ctx: Ctx): RouteResult {
  const account = (ctx.params.org ?? ctx.params.username ?? "").toLowerCase();
  const inst = appInstallations(ctx).find((i) => i.account.toLowerCase() === account);
  if (!inst) throw notFound();
  return { status: 200, body: installationObject(ctx.state, inst, ctx.apiUrl) };
}

function requestedRepos(ctx: Ctx, inst: InstallationRecord): string[] | null {
  const names = Array.isArray(ctx.body.repositories) ? ctx.body.repositories.map(String) : [];
  const ids = Array.isArray(ctx.body.repository_ids) ? ctx.body.repository_ids.map(Number) : [];
  if (!names.length && !ids.length) return null;
  const reachable = installationRepos(ctx, inst);
  const picked = new Set<string>();
  for (const name of names) {
    const repo = reachable.find((r) => r.name.toLowerCase() === name.toLowerCase());
    if (!repo) throw inaccessibleRepos();
    picked.add(repo.name.toLowerCase());
  }
  for (const id of ids) {
    const repo = reachable.find((r) => r.id === id);
    if (!repo) throw inaccessibleRepos();
    picked.add(repo.name.toLowerCase());
  }
  return [...picked];
}

function inaccessibleRepos(): ApiError {
  return new ApiError(
    422,
    "There is at least one repository that does not exist or is not accessible to the parent installation.",
    undefined,
    TOKEN_DOCS,
  );
}

function requestedPermissions(ctx: Ctx, inst: InstallationRecord): AppPermissions {
  const asked = ctx.body.permissions;
  if (!asked || typeof asked !== "object") return { ...inst.permissions };
  const out: AppPermissions = {};
  for (const [name, level] of Object.entries(asked as Record<string, unknown>)) {
    const granted = inst.permissions[name];
    if (!granted || typeof level !== "string" || !LEVELS.includes(level) || (level === "write" && granted !== "write")) {
      throw new ApiError(422, "The permissions requested are not granted to this installation.", undefined, TOKEN_DOCS);
    }
    out[name] = level as "read" | "write";
  }
  return out;
}

/** POST /app/installations/{id}/access_tokens: a `ghs_` token acting as the App's bot until `expires_at`. */
function createAccessToken(ctx: Ctx): RouteResult {
  const inst = requireInstallation(ctx);
  const repos = requestedRepos(ctx, inst);
  const permissions = requestedPermissions(ctx, inst);
  const { token, record } = mintInstallationToken(ctx.state, inst, { repos, permissions }, Date.now());
  const body: Record<string, unknown> = {
    token,
    expires_at: new Date(record.expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
    permissions,
    repository_selection: repos || inst.repos !== "all" ? "selected" : "all",
  };
  if (repos) {
    body.repositories = installationRepos(ctx, inst)
      .filter((r) => repos.includes(r.name.toLowerCase()))
      .map((r) => repoObject(ctx.state, r, ctx.apiUrl, ctx.login));
  }
  return { status: 201, body };
}

/** GET /installation/repositories with an installation token. */
function listInstallationRepos(ctx: Ctx): RouteResult {
  if (ctx.identity.kind !== "installation") throw new ApiError(403, "Resource not accessible by personal access token");
  const { installation, token } = ctx.identity;
  const repos = installationRepos(ctx, installation).filter(
    (r) => token.repos === null || token.repos.includes(r.name.toLowerCase()),
  );
  const { items, headers } = paginate(ctx, repos);
  return {
    status: 200,
    headers,
    body: {
      total_count: repos.length,
      repository_selection: installation.repos === "all" && token.repos === null ? "all" : "selected",
      repositories: items.map((r) => repoObject(ctx.state, r, ctx.apiUrl, ctx.login)),
    },
  };
}

/** GET /users/{username}: any login is a user, except `<slug>[bot]` of an App the fake does not know. */
function getUserByName(ctx: Ctx): RouteResult {
  const login = ctx.params.username ?? "";
  let name: string | null = login;
  if (login.endsWith("[bot]")) {
    const app = [...ctx.state.apps.values()].find((a) => a.botLogin.toLowerCase() === login.toLowerCase());
    if (!app) throw notFound();
    name = null;
  }
  const user = userObject(login, ctx.apiUrl);
  return { status: 200, body: { ...user, name, company: null, blog: "", location: null, email: null, bio: null } };
}

export function appRoutes(): Route[] {
  return [
    route("GET", "/app", getApp, "app"),
    route("GET", "/app/installations", listInstallations, "app"),
    route("GET", "/app/installations/:installation_id", getInstallation, "app"),
    route("POST", "/app/installations/:installation_id/access_tokens", createAccessToken, "app"),
    route("GET", "/repos/:owner/:repo/installation", repoInstallation, "app"),
    route("GET", "/orgs/:org/installation", accountInstallation, "app"),
    route("GET", "/users/:username/installation", accountInstallation, "app"),
    route("GET", "/installation/repositories", listInstallationRepos, "installation"),
    route("GET", "/users/:username", getUserByName),
  ];
}
