/** The Checks API's check runs: only a GitHub App (an installation token) may create or update them. */
import { appObject } from "./apps.js";
import { resolveRef } from "./git.js";
import type { Ctx, Route, RouteResult } from "./http.js";
import { ApiError, getRepo, intParam, notFound, paginate, route, str } from "./http.js";
import { nodeId } from "./serializers.js";
import type { AppRecord, CheckRunRecord, GitHubState, RepoRecord } from "./state.js";
import { newId, repoKey, timestamp } from "./state.js";

const WEB = "https://github.com";
const CREATE_DOCS = "https://docs.github.com/rest/checks/runs#create-a-check-run";
const UPDATE_DOCS = "https://docs.github.com/rest/checks/runs#update-a-check-run";
const STATUSES = ["queued", "in_progress", "completed", "waiting", "requested", "pending"] as const;
const CONCLUSIONS = ["action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"];

export function checkRunObject(
  state: GitHubState,
  repo: RepoRecord,
  run: CheckRunRecord,
  apiUrl: string,
): Record<string, unknown> {
  const full = `${repo.owner}/${repo.name}`;
  const app = state.apps.get(run.appId);
  const pulls = state.pulls.filter((p) => p.repoKey === run.repoKey && p.state === "open" && p.headSha === run.headSha);
  return {
    id: run.id,
    node_id: nodeId("CR", run.id),
    head_sha: run.headSha,
    external_id: run.externalId,
    url: `${apiUrl}/repos/${full}/check-runs/${run.id}`,
    html_url: `${WEB}/${full}/runs/${run.id}`,
    details_url: run.detailsUrl ?? `${WEB}/${full}/runs/${run.id}`,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: {
      title: run.output.title,
      summary: run.output.summary,
      text: run.output.text,
      annotations_count: run.output.annotationsCount,
      annotations_url: `${apiUrl}/repos/${full}/check-runs/${run.id}/annotations`,
    },
    name: run.name,
    check_suite: { id: run.checkSuiteId },
    app: app ? appObject(state, app, apiUrl) : null,
    pull_requests: pulls.map((p) => ({
      url: `${apiUrl}/repos/${full}/pulls/${p.number}`,
      id: p.id,
      number: p.number,
      head: { ref: p.headRef, sha: p.headSha, repo: { id: repo.id, url: `${apiUrl}/repos/${full}`, name: repo.name } },
      base: { ref: p.baseRef, sha: p.baseSha, repo: { id: repo.id, url: `${apiUrl}/repos/${full}`, name: repo.name } },
    })),
  };
}

/** The App behind an installation token; anything else may only read check runs. */
function requireApp(ctx: Ctx, docs: string): AppRecord {
  if (ctx.identity.kind !== "installation") throw new ApiError(403, "You must authenticate via a GitHub App.", undefined, docs);
  if (ctx.identity.token.permissions.checks !== "write") {
    throw new ApiError(403, "Resource not accessible by integration", undefined, docs);
  }
  return ctx.identity.app;
}

function invalid(message: string, docs: string): ApiError {
  return new ApiError(422, `Invalid request.\n\n${message}`, undefined, docs);
}

/** Applies status, conclusion, times, output and links from the body, with GitHub's rules between them. */
function applyFields(ctx: Ctx, run: CheckRunRecord, docs: string): void {
  const status = str(ctx, "status");
  const conclusion = str(ctx, "conclusion");
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
    throw invalid(`For 'properties/status', "${status}" is not a member of ${JSON.stringify(STATUSES)}.`, docs);
  }
  if (conclusion !== undefined && !CONCLUSIONS.includes(conclusion)) {
    throw invalid(`For 'properties/conclusion', "${conclusion}" is not a member of ${JSON.stringify(CONCLUSIONS)}.`, docs);
  }
  if (status === "completed" && !conclusion && !run.conclusion) {
    throw invalid(`"conclusion" wasn't supplied.`, docs);
  }
  const output = ctx.body.output;
  if (output !== undefined) {
    const o = (output && typeof output === "object" ? output : {}) as Record<string, unknown>;
    if (typeof o.title !== "string") throw invalid(`"title" wasn't supplied.`, docs);
    if (typeof o.summary !== "string") throw invalid(`"summary" wasn't supplied.`, docs);
    const annotations = Array.isArray(o.annotations) ? o.annotations.length : 0;
    run.output = {
      title: o.title,
      summary: o.summary,
      text: typeof o.text === "string" ? o.text : run.output.text,
      annotationsCount: run.output.annotationsCount + annotations,
    };
  }
  if (status) run.status = status as CheckRunRecord["status"];
  // GitHub: "Providing conclusion will automatically set the status parameter to completed."
  if (conclusion) {
    run.conclusion = conclusion;
    run.status = "completed";
  }
  if (run.status !== "completed") run.conclusion = null;
  const completedAt = str(ctx, "completed_at");
  if (run.status === "completed") run.completedAt = completedAt ?? run.completedAt ?? timestamp();
  else run.completedAt = null;
  const startedAt = str(ctx, "started_at");
  if (startedAt) run.startedAt = startedAt;
  if ("details_url" in ctx.body) run.detailsUrl = str(ctx, "details_url") ?? null;
  if ("external_id" in ctx.body) run.externalId = str(ctx, "external_id") ?? "";
  const name = str(ctx, "name");
  if (name) run.name = name;
}

async function createCheckRun(ctx: Ctx): Promise<RouteResult> {
  const repo = getRepo(ctx);
  const app = requireApp(ctx, CREATE_DOCS);
  const name = str(ctx, "name");
  const headSha = str(ctx, "head_sha");
  if (!name) throw invalid(`"name" wasn't supplied.`, CREATE_DOCS);
  if (!headSha) throw invalid(`"head_sha" wasn't supplied.`, CREATE_DOCS);
  const key = repoKey(repo.owner, repo.name);
  const sha = /^[0-9a-f]{40}$/.test(headSha) ? await resolveRef(repo.gitDir, key, headSha) : null;
  if (!sha) throw new ApiError(422, `No commit found for SHA: ${headSha}`, undefined, CREATE_DOCS);
  const suite = ctx.state.checkRuns.find((r) => r.repoKey === key && r.headSha === sha && r.appId === app.id);
  const run: CheckRunRecord = {
    id: newId(ctx.state),
    repoKey: key,
    appId: app.id,
    checkSuiteId: suite?.checkSuiteId ?? newId(ctx.state),
    name,
    headSha: sha,
    status: "queued",
    conclusion: null,
    startedAt: timestamp(),
    completedAt: null,
    detailsUrl: null,
    externalId: "",
    output: { title: null, summary: null, text: null, annotationsCount: 0 },
    seq: ctx.state.checkRuns.length,
  };
  applyFields(ctx, run, CREATE_DOCS);
  ctx.state.checkRuns.push(run);
  return { status: 201, body: checkRunObject(ctx.state, repo, run, ctx.apiUrl) };
}

function findRun(ctx: Ctx, repo: RepoRecord): CheckRunRecord {
  const id = intParam(ctx, "check_run_id");
  const run = ctx.state.checkRuns.find((r) => r.id === id && r.repoKey === repoKey(repo.owner, repo.name));
  if (!run) throw notFound();
  return run;
}

function updateCheckRun(ctx: Ctx): RouteResult {
  const repo = getRepo(ctx);
  const app = requireApp(ctx, UPDATE_DOCS);
  const run = findRun(ctx, repo);
  // Only the App that created a check run may change it.
  if (run.appId !== app.id) throw new ApiError(403, "Resource not accessible by integration", undefined, UPDATE_DOCS);
  applyFields(ctx, run, UPDATE_DOCS);
  return { status: 200, body: checkRunObject(ctx.state, repo, run, ctx.apiUrl) };
}

function getCheckRun(ctx: Ctx): RouteResult {
  const repo = getRepo(ctx);
  return { status: 200, body: checkRunObject(ctx.state, repo, findRun(ctx, repo), ctx.apiUrl) };
}

/** GET /commits/{ref}/check-runs: newest first; `filter=latest` (the default) keeps the newest run per name and App. */
async function listForRef(ctx: Ctx): Promise<RouteResult> {
  const repo = getRepo(ctx);
  const key = repoKey(repo.owner, repo.name);
  const sha = await resolveRef(repo.gitDir, key, ctx.params.ref ?? "");
  if (!sha) throw new ApiError(422, `No commit found for SHA: ${ctx.params.ref}`);
  const name = ctx.query.get("check_name");
  const status = ctx.query.get("status");
  const appId = ctx.query.get("app_id");
  const latest = (ctx.query.get("filter") ?? "latest") === "latest";
  const seen = new Set<string>();
  const runs = ctx.state.checkRuns
    .filter((r) => r.repoKey === key && r.headSha === sha)
    .sort((a, b) => b.seq - a.seq)
    .filter((r) => {
      const id = `${r.appId}\u0000${r.name}`;
      if (latest && seen.has(id)) return false;
      seen.add(id);
      return true;
    })
    .filter((r) => (!name || r.name === name) && (!status || r.status === status) && (!appId || String(r.appId) === appId));
  const { items, headers } = paginate(ctx, runs);
  return {
    status: 200,
    headers,
    body: { total_count: runs.length, check_runs: items.map((r) => checkRunObject(ctx.state, repo, r, ctx.apiUrl)) },
  };
}

export function checkRoutes(): Route[] {
  const r = "/repos/:owner/:repo";
  return [
    route("POST", `${r}/check-runs`, createCheckRun),
    route("GET", `${r}/check-runs/:check_run_id`, getCheckRun),
    route("PATCH", `${r}/check-runs/:check_run_id`, updateCheckRun),
    route("GET", `${r}/commits/:ref/check-runs`, listForRef),
  ];
}
