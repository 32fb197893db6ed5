/** Pull request endpoints: list, create, get, update, merge. */
import { branchSha, diffStats, isAncestor, syntheticSha } from "./git.js";
import type { Ctx, Route } from "./http.js";
import { ApiError, getRepo, intParam, notFound, paginate, route, str, validationFailed } from "./http.js";
import { pullObject } from "./serializers.js";
import type { PullRecord, RepoRecord } from "./state.js";
import { findPull, newId, repoKey, timestamp } from "./state.js";

const CREATE_DOCS = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request";

/** Re-reads head/base SHAs from the bare repository while the pull is open (branches may have been pushed). */
export async function refreshPull(repo: RepoRecord, pull: PullRecord): Promise<void> {
  if (pull.state !== "open") return;
  const key = repoKey(repo.owner, repo.name);
  const head = await branchSha(repo.gitDir, key, pull.headRef);
  if (head) pull.headSha = head;
  const base = await branchSha(repo.gitDir, key, pull.baseRef);
  if (base) pull.baseSha = base;
}

export function markMerged(pull: PullRecord, by: string): void {
  const now = timestamp();
  pull.merged = true;
  pull.mergedAt = now;
  pull.mergedBy = by;
  pull.closedAt = now;
  pull.updatedAt = now;
  pull.state = "closed";
  pull.mergeCommitSha = syntheticSha(`merge:${pull.repoKey}:${pull.number}:${pull.headSha}`);
}

export function requirePull(ctx: Ctx, repo: RepoRecord): PullRecord {
  const pull = findPull(ctx.state, repoKey(repo.owner, repo.name), intParam(ctx, "number"));
  if (!pull) throw notFound();
  return pull;
}

async function fullPull(ctx: Ctx, repo: RepoRecord, pull: PullRecord, status = 200) {
  await refreshPull(repo, pull);
  const stats = await diffStats(repo.gitDir, pull.baseSha, pull.headSha);
  return { status, body: pullObject(ctx.state, repo, pull, ctx.apiUrl, { stats, viewer: ctx.login }) };
}

function parseHead(repo: RepoRecord, head: string): { owner: string; ref: string } {
  const i = head.indexOf(":");
  return i < 0 ? { owner: repo.owner, ref: head } : { owner: head.slice(0, i), ref: head.slice(i + 1) };
}

async function list(ctx: Ctx) {
  const repo = getRepo(ctx);
  const key = repoKey(repo.owner, repo.name);
  const state = ctx.query.get("state") ?? "open";
  if (!["open", "closed", "all"].includes(state)) {
    throw validationFailed([{ resource: "Search", field: "state", code: "invalid" }]);
  }
  const head = ctx.query.get("head");
  const base = ctx.query.get("base");
  // GitHub only applies `head` in the documented `user:ref-name` form; a bare branch name is ignored.
  const headFilter = head?.includes(":") ? parseHead(repo, head) : null;
  let pulls = ctx.state.pulls.filter(
    (p) =>
      p.repoKey === key &&
      (state === "all" || p.state === state) &&
      (!headFilter ||
        (p.headOwner.toLowerCase() === headFilter.owner.toLowerCase() && p.headRef === headFilter.ref)) &&
      (!base || p.baseRef === base),
  );
  const sort = ctx.query.get("sort") ?? "created";
  const direction = ctx.query.get("direction") ?? (sort === "created" ? "desc" : "asc");
  const field = sort === "updated" ? "updatedAt" : "createdAt";
  pulls = [...pulls].sort((a, b) => a[field].localeCompare(b[field]) || a.id - b.id);
  if (direction === "desc") pulls.reverse();
  const { items, headers } = paginate(ctx, pulls);
  for (const p of items) await refreshPull(repo, p);
  return { status: 200, headers, body: items.map((p) => pullObject(ctx.state, repo, p, ctx.apiUrl, null)) };
}

async function create(ctx: Ctx) {
  const repo = getRepo(ctx);
  const key = repoKey(repo.owner, repo.name);
  const title = str(ctx, "title");
  const head = str(ctx, "head");
  const base = str(ctx, "base");
  const missing = [
    ...(title ? [] : [{ resource: "Issue", code: "missing_field", field: "title" }]),
    ...(head ? [] : [{ resource: "PullRequest", code: "missing_field", field: "head" }]),
    ...(base ? [] : [{ resource: "PullRequest", code: "missing_field", field: "base" }]),
  ];
  if (!title || !head || !base) throw validationFailed(missing, CREATE_DOCS);
  // GitHub's exact refusal where the plan has no drafts (GitHub Free private repositories): a bare
  // message, no `errors` list.
  if (ctx.body.draft === true && !repo.draftsSupported) {
    throw new ApiError(422, "Draft pull requests are not supported in this repository.", undefined, CREATE_DOCS);
  }
  const { owner: headOwner, ref: headRef } = parseHead(repo, head);
  const sameOwner = headOwner.toLowerCase() === repo.owner.toLowerCase();
  const headSha = sameOwner ? await branchSha(repo.gitDir, key, headRef) : null;
  const baseSha = await branchSha(repo.gitDir, key, base);
  const invalid = [
    ...(headSha ? [] : [{ resource: "PullRequest", field: "head", code: "invalid" }]),
    ...(baseSha ? [] : [{ resource: "PullRequest", field: "base", code: "invalid" }]),
  ];
  if (!headSha || !baseSha) throw validationFailed(invalid, CREATE_DOCS);
  const existing = ctx.state.pulls.find(
    (p) => p.repoKey === key && p.state === "open" && p.headRef === headRef && p.baseRef === base,
  );
  if (existing) {
    const message = `A pull request already exists for ${repo.owner}:${headRef}.`;
    throw validationFailed([{ resource: "PullRequest", code: "custom", message }], CREATE_DOCS);
  }
  if (await isAncestor(repo.gitDir, headSha, baseSha)) {
    const message = `No commits between ${base} and ${headRef}`;
    throw validationFailed([{ resource: "PullRequest", code: "custom", message }], CREATE_DOCS);
  }
  const now = timestamp();
  const pull: PullRecord = {
    id: newId(ctx.state),
    repoKey: key,
    number: repo.nextNumber++,
    title,
    body: str(ctx, "body") ?? null,
    state: "open",
    draft: ctx.body.draft === true,
    merged: false,
    mergedAt: null,
    mergedBy: null,
    mergeCommitSha: null,
    closedAt: null,
    headOwner: repo.owner,
    headRef,
    headSha,
    baseRef: base,
    baseSha,
    user: ctx.login,
    maintainerCanModify: ctx.body.maintainer_can_modify !== false,
    createdAt: now,
    updatedAt: now,
  };
  ctx.state.pulls.push(pull);
  const res = await fullPull(ctx, repo, pull, 201);
  return {
    ...res,
    headers: { location: `${ctx.apiUrl}/repos/${repo.owner}/${repo.name}/pulls/${pull.number}` },
  };
}

async function get(ctx: Ctx) {
  const repo = getRepo(ctx);
  return fullPull(ctx, repo, requirePull(ctx, repo));
}

async function update(ctx: Ctx) {
  const repo = getRepo(ctx);
  const pull = requirePull(ctx, repo);
  const state = str(ctx, "state");
  if (state !== undefined && state !== "open" && state !== "closed") {
    throw validationFailed([{ resource: "PullRequest", field: "state", code: "invalid" }]);
  }
  const base = str(ctx, "base");
  if (base !== undefined) {
    const sha = await branchSha(repo.gitDir, pull.repoKey, base);
    if (!sha) throw validationFailed([{ resource: "PullRequest", field: "base", code: "invalid" }]);
    pull.baseRef = base;
    pull.baseSha = sha;
  }
  if (state === "open" && pull.state === "closed") {
    if (pull.merged)
      throw validationFailed([
        {
          resource: "PullRequest",
          code: "custom",
          message: "state cannot be changed. The pull request has been merged.",
        },
      ]);
    pull.state = "open";
    pull.closedAt = null;
  } else if (state === "closed" && pull.state === "open") {
    pull.state = "closed";
    pull.closedAt = timestamp();
  }
  const title = str(ctx, "title");
  if (title !== undefined) pull.title = title;
  if ("body" in ctx.body) pull.body = str(ctx, "body") ?? null;
  if (typeof ctx.body.maintainer_can_modify === "boolean")
    pull.maintainerCanModify = ctx.body.maintainer_can_modify;
  pull.updatedAt = timestamp();
  return fullPull(ctx, repo, pull);
}

async function merge(ctx: Ctx) {
  const repo = getRepo(ctx);
  const pull = requirePull(ctx, repo);
  await refreshPull(repo, pull);
  const method = str(ctx, "merge_method") ?? "merge";
  if (!["merge", "squash", "rebase"].includes(method)) {
    throw validationFailed([{ resource: "PullRequest", field: "merge_method", code: "invalid" }]);
  }
  if (pull.state !== "open") throw new ApiError(405, "Pull Request is not mergeable");
  if (pull.draft) throw new ApiError(405, "Pull Request is still a draft");
  const sha = str(ctx, "sha");
  if (sha && sha !== pull.headSha)
    throw new ApiError(409, "Head branch was modified. Review and try the merge again.");
  markMerged(pull, ctx.login);
  return {
    status: 200,
    body: { sha: pull.mergeCommitSha, merged: true, message: "Pull Request successfully merged" },
  };
}

async function checkMerged(ctx: Ctx) {
  const repo = getRepo(ctx);
  if (!requirePull(ctx, repo).merged) throw notFound();
  return { status: 204 };
}

export function pullRoutes(): Route[] {
  const p = "/repos/:owner/:repo/pulls";
  return [
    route("GET", p, list),
    route("POST", p, create),
    route("GET", `${p}/:number`, get),
    route("PATCH", `${p}/:number`, update),
    route("GET", `${p}/:number/merge`, checkMerged),
    route("PUT", `${p}/:number/merge`, merge),
  ];
}
