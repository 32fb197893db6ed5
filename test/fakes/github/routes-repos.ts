/** User, repository, collaborator permission, commit status and issue comment endpoints. */
import { resolveRef } from "./git.js";
import type { Ctx, Route } from "./http.js";
import { ApiError, getRepo, intParam, listResult, notFound, route, str, validationFailed } from "./http.js";
import {
  issueCommentObject,
  permissionOf,
  permissionsObject,
  repoObject,
  statusObject,
  userObject,
} from "./serializers.js";
import type { IssueCommentRecord, RepoRecord, StatusRecord } from "./state.js";
import { findPull, newId, repoKey, timestamp } from "./state.js";

const STATUS_STATES = ["error", "failure", "pending", "success"] as const;

function getUser(ctx: Ctx) {
  // GitHub: an installation token has no user; an App reads its own identity from GET /app.
  if (ctx.identity.kind === "installation") throw new ApiError(403, "Resource not accessible by integration");
  return { status: 200, body: { ...userObject(ctx.login, ctx.apiUrl), name: ctx.login } };
}

function getRepository(ctx: Ctx) {
  return { status: 200, body: repoObject(ctx.state, getRepo(ctx), ctx.apiUrl, ctx.login) };
}

/**
 * Mirrors GitHub: `permission` is the legacy value (maintain→write, triage→read) and `role_name` the
 * role itself; a user without access gets "read" on a public repository and "none" with an empty
 * `role_name` on a private one (200, not 404: 404 means no such user or repository).
 */
function collaboratorPermission(ctx: Ctx) {
  const repo = getRepo(ctx);
  const login = ctx.params.username ?? "";
  let role = permissionOf(ctx.state, repo, login);
  if (role === "none" && !repo.private) role = "read";
  const legacy = role === "maintain" ? "write" : role === "triage" ? "read" : role;
  const roleName = role === "none" ? "" : role;
  const user = { ...userObject(login, ctx.apiUrl), permissions: permissionsObject(role), role_name: roleName };
  return { status: 200, body: { permission: legacy, role_name: roleName, user } };
}

async function resolveOr404(repo: RepoRecord, ref: string): Promise<string> {
  const sha = await resolveRef(repo.gitDir, repoKey(repo.owner, repo.name), ref);
  if (!sha) throw notFound();
  return sha;
}

async function createStatus(ctx: Ctx) {
  const repo = getRepo(ctx);
  const key = repoKey(repo.owner, repo.name);
  const sha = await resolveRef(repo.gitDir, key, ctx.params.sha ?? "");
  if (!sha)
    throw validationFailed([
      { resource: "Status", code: "custom", message: `No commit found for SHA: ${ctx.params.sha}` },
    ]);
  const state = str(ctx, "state");
  if (!state || !(STATUS_STATES as readonly string[]).includes(state)) {
    throw validationFailed([
      { resource: "Status", field: "state", code: state ? "invalid" : "missing_field" },
    ]);
  }
  const now = timestamp();
  const record: StatusRecord = {
    id: newId(ctx.state),
    repoKey: key,
    sha,
    state: state as StatusRecord["state"],
    targetUrl: str(ctx, "target_url") ?? null,
    description: str(ctx, "description") ?? null,
    context: str(ctx, "context") ?? "default",
    creator: ctx.login,
    createdAt: now,
    updatedAt: now,
  };
  ctx.state.statuses.push(record);
  return { status: 201, body: statusObject(record, repo, ctx.apiUrl) };
}

function statusesFor(ctx: Ctx, repo: RepoRecord, sha: string): StatusRecord[] {
  const key = repoKey(repo.owner, repo.name);
  // newest first, like GitHub
  return ctx.state.statuses.filter((s) => s.repoKey === key && s.sha === sha).reverse();
}

async function listStatuses(ctx: Ctx) {
  const repo = getRepo(ctx);
  const sha = await resolveOr404(repo, ctx.params.ref ?? "");
  return listResult(ctx, statusesFor(ctx, repo, sha), (s) => statusObject(s, repo, ctx.apiUrl));
}

async function combinedStatus(ctx: Ctx) {
  const repo = getRepo(ctx);
  const sha = await resolveOr404(repo, ctx.params.ref ?? "");
  const latest = new Map<string, StatusRecord>();
  for (const s of statusesFor(ctx, repo, sha)) if (!latest.has(s.context)) latest.set(s.context, s);
  const statuses = [...latest.values()];
  const state = statuses.some((s) => s.state === "error" || s.state === "failure")
    ? "failure"
    : statuses.length === 0 || statuses.some((s) => s.state === "pending")
      ? "pending"
      : "success";
  const full = `${repo.owner}/${repo.name}`;
  return {
    status: 200,
    body: {
      state,
      statuses: statuses.map((s) => statusObject(s, repo, ctx.apiUrl)),
      sha,
      total_count: statuses.length,
      repository: repoObject(ctx.state, repo, ctx.apiUrl, ctx.login),
      commit_url: `${ctx.apiUrl}/repos/${full}/commits/${sha}`,
      url: `${ctx.apiUrl}/repos/${full}/commits/${sha}/status`,
    },
  };
}

/** Issues are not modelled separately: comments may target any existing pull request number. */
function requireIssue(ctx: Ctx, repo: RepoRecord): number {
  const number = intParam(ctx, "number");
  if (!findPull(ctx.state, repoKey(repo.owner, repo.name), number)) throw notFound();
  return number;
}

function findIssueComment(ctx: Ctx, repo: RepoRecord): IssueCommentRecord {
  const id = intParam(ctx, "comment_id");
  const key = repoKey(repo.owner, repo.name);
  const c = ctx.state.issueComments.find((x) => x.id === id && x.repoKey === key);
  if (!c) throw notFound();
  return c;
}

function listIssueComments(ctx: Ctx) {
  const repo = getRepo(ctx);
  const number = requireIssue(ctx, repo);
  const since = ctx.query.get("since");
  const key = repoKey(repo.owner, repo.name);
  const comments = ctx.state.issueComments.filter(
    (c) => c.repoKey === key && c.issueNumber === number && (!since || c.updatedAt >= since),
  );
  return listResult(ctx, comments, (c) => issueCommentObject(ctx.state, repo, c, ctx.apiUrl));
}

export function insertIssueComment(
  ctx: { state: Ctx["state"] },
  key: string,
  number: number,
  user: string,
  body: string,
): IssueCommentRecord {
  const now = timestamp();
  const c = {
    id: newId(ctx.state),
    repoKey: key,
    issueNumber: number,
    body,
    user,
    createdAt: now,
    updatedAt: now,
  };
  ctx.state.issueComments.push(c);
  return c;
}

function createIssueComment(ctx: Ctx) {
  const repo = getRepo(ctx);
  const number = requireIssue(ctx, repo);
  const body = str(ctx, "body");
  if (!body) throw validationFailed([{ resource: "IssueComment", code: "missing_field", field: "body" }]);
  const c = insertIssueComment(ctx, repoKey(repo.owner, repo.name), number, ctx.login, body);
  return { status: 201, body: issueCommentObject(ctx.state, repo, c, ctx.apiUrl) };
}

function getIssueComment(ctx: Ctx) {
  const repo = getRepo(ctx);
  return { status: 200, body: issueCommentObject(ctx.state, repo, findIssueComment(ctx, repo), ctx.apiUrl) };
}

function updateIssueComment(ctx: Ctx) {
  const repo = getRepo(ctx);
  const c = findIssueComment(ctx, repo);
  const body = str(ctx, "body");
  if (!body) throw validationFailed([{ resource: "IssueComment", code: "missing_field", field: "body" }]);
  c.body = body;
  c.updatedAt = timestamp();
  return { status: 200, body: issueCommentObject(ctx.state, repo, c, ctx.apiUrl) };
}

function deleteIssueComment(ctx: Ctx) {
  const repo = getRepo(ctx);
  const c = findIssueComment(ctx, repo);
  ctx.state.issueComments.splice(ctx.state.issueComments.indexOf(c), 1);
  return { status: 204 };
}

export function repoRoutes(): Route[] {
  const r = "/repos/:owner/:repo";
  return [
    route("GET", "/user", getUser),
    route("GET", r, getRepository),
    route("GET", `${r}/collaborators/:username/permission`, collaboratorPermission),
    route("POST", `${r}/statuses/:sha`, createStatus),
    route("GET", `${r}/commits/:ref/statuses`, listStatuses),
    route("GET", `${r}/commits/:ref/status`, combinedStatus),
    route("GET", `${r}/issues/comments/:comment_id`, getIssueComment),
    route("PATCH", `${r}/issues/comments/:comment_id`, updateIssueComment),
    route("DELETE", `${r}/issues/comments/:comment_id`, deleteIssueComment),
    route("GET", `${r}/issues/:number/comments`, listIssueComments),
    route("POST", `${r}/issues/:number/comments`, createIssueComment),
  ];
}
