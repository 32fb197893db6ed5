import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { Octokit } from "@octokit/rest";
import type { FastifyInstance } from "fastify";
import { startWorkers, type Workers } from "../../jobs/workers.js";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createDeps, type Deps, type DepsOverrides } from "../../src/deps.js";
import { createLogger } from "../../src/logger.js";
import { type AnthropicFake, type AnthropicFakeOptions, startAnthropicFake } from "../fakes/anthropic/index.js";
import { type GitHubFake, startGitHubFake } from "../fakes/github/index.js";
import type { FakeComment, FakeIssue, FakeIssueLabel, FakeTeam, FakeUser } from "../fakes/linear/index.js";
import { type LinearFake, startLinearFake } from "../fakes/linear/index.js";
import { linearCommentPayload, linearIssuePayload } from "../fixtures/linear.js";
import { GITHUB_SECRET, LINEAR_SECRET } from "./config.js";
import { type BareRemote, createBareRemote } from "./git-remote.js";
import { cleanPrefix, REDIS_URL, uniquePrefix } from "./redis.js";
import { appSecrets, githubCredentialsEnv, installWorldApp, type WorldAppOption, type WorldGitHubApp } from "./world-app.js";
import { signGitHub, signLinear } from "./sign.js";

export const OWNER = "acme";
export const REPO = "widgets";
export { APP_SLUG, type WorldGitHubApp } from "./world-app.js";

/** The whole service on loopback: real Redis, real git, fakes speaking GitHub, Linear and Anthropic. */
export interface World {
  github: GitHubFake;
  /** The App the service runs as (`githubApp` option), else null (the service uses GITHUB_TOKEN). */
  githubApp: WorldGitHubApp | null;
  /** A plain Octokit on the fake, for assertions through the real API. */
  octokit: Octokit;
  linear: LinearFake;
  anthropic: AnthropicFake;
  remote: BareRemote;
  team: FakeTeam;
  agentLabel: FakeIssueLabel;
  deps: Deps;
  app: FastifyInstance;
  workers: Workers | null;
  /** Every log line the service wrote, as JSON text. */
  logs: string[];
  dataDir: string;
  /** The environment the service was configured from (for child worker processes). */
  env: Record<string, string>;
  /** Every secret the service holds, read when asked: with an App, also each installation token and JWT issued so far. */
  readonly secrets: string[];
  newIssue(p?: { title?: string; description?: string; labels?: FakeIssueLabel[] }): FakeIssue;
  /** Sends the signed Linear webhook for "agent label added to `issue`" through the real route. */
  labelIssue(issue: FakeIssue, opts?: { updatedAt?: string }): Promise<{ status: number; body: Record<string, unknown> }>;
  waitForJob(
    jobId: string,
    queue?: "implement" | "feedback" | "revise" | "lifecycle" | "ack",
    timeoutMs?: number,
  ): Promise<"completed" | "failed">;
  /** Sends a signed GitHub webhook through the real route. */
  sendGitHub(event: string, payload: unknown): Promise<{ status: number; body: Record<string, any> }>;
  /** Signs any Linear webhook body (an AgentSessionEvent, say) and posts it through the real route. */
  sendLinear(payload: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Sends the signed Linear webhook for "agent label removed from `issue`". */
  unlabelIssue(issue: FakeIssue): Promise<{ status: number; body: Record<string, unknown> }>;
  /** A person in the workspace ("Ada Lovelace"), seeded on first use: the default author of `commentOn`. */
  readonly human: FakeUser;
  /**
   * `user` (default `human`) comments on `issue` (a reply in `parentId`'s thread if given): the comment is
   * added to the Linear fake, then the signed Comment `create` webhook is posted through the real route.
   */
  commentOn(
    issue: FakeIssue,
    body: string,
    opts?: { parentId?: string; user?: FakeUser },
  ): Promise<{ comment: FakeComment; status: number; body: Record<string, unknown> }>;
  /**
   * Posts the signed Issue webhook built from the fake's current state of `issue` (labels, state, team,
   * parentId, project, creator, delegate; actor `human`). An update or remove first bumps the stored
   * issue's updatedAt, as any change does in Linear, so each call is its own delivery; a remove also
   * archives it in the fake (Linear trashes a deleted issue) and sends `trashed: true`.
   */
  sendIssueWebhook(
    issue: FakeIssue,
    action: "create" | "update" | "remove",
    updatedFrom?: Record<string, unknown>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Polls `check` until it returns a truthy value. */
  waitFor<T>(check: () => Promise<T> | T, what: string, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export interface WorldOptions {
  env?: Record<string, string>;
  files?: Record<string, string>;
  routing?: Record<string, unknown> | null;
  /** null: no DEFAULT_REPO, so only the routing file routes (set by default whenever routing is). */
  defaultRepo?: null;
  startWorkers?: boolean;
  overrides?: DepsOverrides;
  /** Options of the Anthropic fake (a small context window, an intercept for compaction calls). */
  anthropic?: AnthropicFakeOptions;
  /** Run the service as a GitHub App (see WorldAppOption), not with GITHUB_TOKEN. */
  githubApp?: WorldAppOption;
}

const DEFAULT_FILES = {
  "README.md": "# widgets\n\nA tiny project used by agent-workforce tests.\n",
  "greet.txt": "hello\n",
  "check.sh": "#!/bin/sh\n# The project's checks: greet.txt must say hello.\ngrep -q hello greet.txt\n",
};

/** Starts fakes, a bare remote, the app and (by default) workers under a fresh Redis prefix. */
export async function startWorld(opts: WorldOptions = {}): Promise<World> {
  const [github, linear, anthropic, remote] = await Promise.all([
    startGitHubFake({ token: `ghp_${randomUUID().replace(/-/g, "")}` }),
    startLinearFake({ apiKey: `lin_api_${randomUUID().replace(/-/g, "")}` }),
    startAnthropicFake({ apiKey: `sk-ant-${randomUUID()}`, minCacheableTokens: 200, ...opts.anthropic }),
    createBareRemote(opts.files ?? DEFAULT_FILES),
  ]);
  // The service paces to GitHub's own x-ratelimit-limit; a world's fake grants a limit no test reaches.
  github.setRateLimit({ limit: 1_000_000_000, windowMs: 3_600_000 });
  github.addRepo({ owner: OWNER, name: REPO, cloneUrl: remote.url, defaultBranch: "main", ...(opts.githubApp ? { http: true } : {}) });
  const githubApp = opts.githubApp ? installWorldApp(github, opts.githubApp, OWNER, REPO) : null;
  const team = linear.store.seedTeam({ key: "ENG", name: "Engineering" });
  const agentLabel = linear.store.seedLabel({ name: "agent" });
  const dataDir = await mkdtemp(path.join(tmpdir(), "awf-data-"));
  const prefix = uniquePrefix("w");
  // The routing file (JSON is YAML) sends the world's issues to OWNER/REPO, whose checks are check.sh.
  const routingFile = opts.routing === null ? undefined : path.join(dataDir, "routing.json");
  const routing = opts.routing ?? { repos: { [`${OWNER}/${REPO}`]: { checkCommand: "sh check.sh" } } };
  if (routingFile) await writeFile(routingFile, JSON.stringify(routing));
  const env: Record<string, string> = {
    REDIS_URL,
    REDIS_PREFIX: prefix,
    GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
    LINEAR_WEBHOOK_SECRET: LINEAR_SECRET,
    ...githubCredentialsEnv(github, githubApp, opts.githubApp),
    GITHUB_API_URL: github.url,
    LINEAR_API_KEY: linear.apiKey,
    LINEAR_API_URL: linear.url,
    ANTHROPIC_API_KEY: anthropic.apiKey,
    ANTHROPIC_BASE_URL: anthropic.url,
    DATA_DIR: dataDir,
    LOG_LEVEL: "debug",
    AGENT_MODEL: "claude-sonnet-4-6",
    // The fakes have no secondary rate limits to respect.
    GITHUB_WRITE_SPACING_MS: "0",
    // Pacing is tested on its own (github-shared-limits); a long world must not wait on the hourly budget.
    GITHUB_REQUESTS_PER_HOUR: "1000000",
    // Triage is a model call before the first run; tests that script it turn it on.
    AGENT_TRIAGE: "off",
    // Tests that need the reconciler run it themselves; a sweep at start-up would race them.
    RECONCILE_INTERVAL_MS: "0",
    ...(routingFile ? { AGENT_WORKFORCE_CONFIG: routingFile } : {}),
    ...(opts.routing === null || opts.defaultRepo === null ? {} : { DEFAULT_REPO: `${OWNER}/${REPO}` }),
    ...opts.env,
  };
  const logs: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { logs.push(chunk.toString()); cb(); } });
  const logger = createLogger({ level: "debug", destination: sink });
  const deps = await createDeps(loadConfig(env, ["server", "worker"]), { logger, ...opts.overrides });
  const app = await buildApp(deps);
  await app.ready();
  const workers = opts.startWorkers === false ? null : await startWorkers(deps);

  /** Signs a Linear webhook body for real and posts it through the route. */
  const sendLinear = async (payload: unknown) => {
    const body = JSON.stringify(payload);
    const res = await app.inject({
      method: "POST",
      url: "/webhooks/linear",
      payload: body,
      headers: { "content-type": "application/json", "linear-signature": signLinear(LINEAR_SECRET, body) },
    });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  };

  let human: FakeUser | undefined;
  const humanUser = (): FakeUser =>
    (human ??= linear.store.seedUser({ name: "Ada Lovelace", email: "ada@example.com" }));
  const asWebhookUser = (u: FakeUser) => ({ id: u.id, name: u.name, email: u.email, url: u.url });
  const webhookTeam = (teamId: string) => {
    const t = linear.store.teams.get(teamId) ?? team;
    return { id: t.id, key: t.key, name: t.name };
  };

  const world: World = {
    github,
    githubApp,
    octokit: new Octokit({ auth: github.token, baseUrl: github.url }),
    linear,
    anthropic,
    remote,
    team,
    agentLabel,
    deps,
    app,
    workers,
    logs,
    dataDir,
    env,
    get secrets() {
      return [github.token, linear.apiKey, anthropic.apiKey, GITHUB_SECRET, LINEAR_SECRET, ...appSecrets(github, githubApp)];
    },
    sendLinear,
    newIssue(p = {}) {
      return linear.store.seedIssue({
        teamId: team.id,
        title: p.title ?? "Greet the world politely",
        description: p.description ?? "Change greet.txt so it says `hello, world`.",
        labelIds: (p.labels ?? [agentLabel]).map((l) => l.id),
      });
    },
    async labelIssue(issue, opts = {}) {
      // Adding a label updates the issue, as in Linear; a late copy of an old event passes its time.
      const stored = linear.store.getIssue(issue.id);
      const updatedAt = opts.updatedAt ?? new Date().toISOString();
      const labelIds = [...new Set([...issue.labelIds, agentLabel.id])];
      if (stored && !opts.updatedAt) {
        stored.updatedAt = updatedAt;
        stored.labelIds = [...new Set([...stored.labelIds, agentLabel.id])];
      }
      const labels = labelIds.map((id) => {
        const l = linear.store.issueLabels.get(id);
        return { id, name: l?.name ?? "?", color: "#000000" };
      });
      const payload = linearIssuePayload("update", {
        issueId: issue.id,
        identifier: issue.identifier,
        title: issue.title,
        team: { id: team.id, key: team.key, name: team.name },
        labels,
        updatedFrom: { labelIds: labelIds.filter((id) => id !== agentLabel.id) },
        updatedAt,
        organizationId: linear.store.organization.id,
      });
      return sendLinear(payload);
    },
    async sendGitHub(event, payload) {
      const body = JSON.stringify(payload);
      const res = await app.inject({
        method: "POST",
        url: "/webhooks/github",
        payload: body,
        headers: {
          "content-type": "application/json",
          "x-github-event": event,
          "x-github-delivery": randomUUID(),
          "x-hub-signature-256": signGitHub(GITHUB_SECRET, body),
        },
      });
      return { status: res.statusCode, body: res.json() };
    },
    async unlabelIssue(issue) {
      const remaining = issue.labelIds.filter((id) => id !== agentLabel.id);
      // As in Linear, the issue itself loses the label before the webhook tells us.
      const stored = linear.store.getIssue(issue.id);
      if (stored) stored.labelIds = [...remaining];
      const payload = linearIssuePayload("update", {
        issueId: issue.id,
        identifier: issue.identifier,
        title: issue.title,
        team: { id: team.id, key: team.key, name: team.name },
        labels: remaining.map((id) => ({ id, name: linear.store.issueLabels.get(id)?.name ?? "?", color: "#000000" })),
        updatedFrom: { labelIds: [...remaining, agentLabel.id] },
        updatedAt: new Date().toISOString(),
        organizationId: linear.store.organization.id,
      });
      return sendLinear(payload);
    },
    get human() {
      return humanUser();
    },
    async commentOn(issue, text, opts = {}) {
      const user = opts.user ?? humanUser();
      const stored = linear.store.getIssue(issue.id) ?? issue;
      const comment = linear.store.addComment({
        issueId: stored.id,
        body: text,
        userId: user.id,
        parentId: opts.parentId ?? null,
      });
      const payload = linearCommentPayload("create", {
        issueId: stored.id,
        body: text,
        commentId: comment.id,
        parentId: comment.parentId,
        user: asWebhookUser(user),
        issue: {
          id: stored.id,
          identifier: stored.identifier,
          title: stored.title,
          url: stored.url,
          team: webhookTeam(stored.teamId),
        },
        createdAt: comment.createdAt,
        updatedAt: comment.updatedAt,
        url: comment.url,
        organizationId: linear.store.organization.id,
      });
      return { comment, ...(await sendLinear(payload)) };
    },
    async sendIssueWebhook(issue, action, updatedFrom) {
      const live = linear.store.getIssue(issue.id);
      if (live && action !== "create") linear.store.touch(live);
      // Deleting an issue in Linear trashes it: archived, gone from lists without includeArchived.
      if (live && action === "remove") live.archivedAt ??= live.updatedAt;
      const stored = live ?? issue;
      const state = linear.store.workflowStates.get(stored.stateId);
      const payload = linearIssuePayload(action, {
        issueId: stored.id,
        identifier: stored.identifier,
        number: stored.number,
        title: stored.title,
        description: stored.description,
        url: stored.url,
        team: webhookTeam(stored.teamId),
        labels: stored.labelIds.map((id) => {
          const l = linear.store.issueLabels.get(id);
          return { id, name: l?.name ?? "?", color: l?.color ?? "#000000" };
        }),
        ...(state ? { state: { id: state.id, name: state.name, type: state.type, color: state.color } } : {}),
        parentId: stored.parentId,
        projectId: stored.projectId,
        creatorId: stored.creatorId,
        delegateId: stored.delegateId ?? null,
        assigneeId: stored.assigneeId,
        priority: stored.priority,
        startedAt: stored.startedAt,
        completedAt: stored.completedAt,
        canceledAt: stored.canceledAt,
        archivedAt: stored.archivedAt,
        ...(action === "remove" ? { trashed: true } : {}),
        createdAt: stored.createdAt,
        updatedAt: stored.updatedAt,
        updatedFrom,
        actor: asWebhookUser(humanUser()),
        organizationId: linear.store.organization.id,
      });
      return sendLinear(payload);
    },
    async waitFor(check, what, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await check();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async waitForJob(jobId, queue = "implement", timeoutMs = 20_000) {
      const q = deps.queues[queue];
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const job = await q.getJob(jobId);
        const state = job ? await job.getState() : "missing";
        if (state === "completed") return "completed";
        if (state === "failed") return "failed";
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`job ${jobId} did not finish within ${timeoutMs} ms`);
    },
    async close() {
      await app.close();
      await workers?.close();
      await deps.close();
      await Promise.all([github.close(), linear.close(), anthropic.close()]);
      await remote.cleanup();
      await rm(dataDir, { recursive: true, force: true });
      await cleanPrefix(prefix);
    },
  };
  return world;
}
