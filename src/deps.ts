import type Anthropic from "@anthropic-ai/sdk";
import { createAnthropic } from "./agent/anthropic-client.js";
import { Pricing } from "./agent/pricing.js";
import type { LinearClient } from "@linear/sdk";
import type { Redis } from "ioredis";
import { createQueues, type Queues } from "../jobs/queues.js";
import { AnthropicRunner } from "./agent/anthropic-runner.js";
import { createDrain } from "./agent/drain.js";
import { createClaudeCodeRunner } from "./agent/claude-code/runner.js";
import type { AgentRunner } from "./agent/runner.js";
import type { Config, Role } from "./config.js";
import { type GitHubAccess, tokenAccess } from "./github/access.js";
import { appAccess } from "./github/app-access.js";
import { createOctokit } from "./github/octokit.js";
import { createGitHubLimiter } from "./github/request-budget.js";
import { createLinearClient, type LinearPacing } from "./linear/client.js";
import { LINEAR_LIMITS, LinearBudget, type TokenBudget } from "./linear/request-budget.js";
import { LinearApp } from "./linear/oauth/app-auth.js";
import { createLogger, type Logger } from "./logger.js";
import { createRedis, redactUrl, withTimeout } from "./redis.js";
import { assertNoEviction } from "./redis-policy.js";
import { loadRouting, type Routing } from "./routing/routing-config.js";
import { Cancellation } from "./tasks/cancellation.js";
import { FeedbackStore } from "./tasks/feedback-store.js";
import { LocalSlots } from "./tasks/local-slots.js";
import { Limits } from "./tasks/locks.js";
import { EditBudget } from "./status/publish.js";
import { SpendLedger } from "./tasks/spend.js";
import { type Sandbox, startSandbox } from "./sandbox/sandbox.js";
import { TaskStore } from "./tasks/task-store.js";
import { Workspace } from "./workspace/index.js";
import { closeCounters } from "./metrics/cluster-counters.js";

/** Remote clients; present when their credentials are configured (always in a worker). */
export interface Clients {
  /** GitHub as one token's user or as an App installed per organisation. */
  readonly github: GitHubAccess;
  /**
   * A Linear client bound to one job's AbortSignal. With the OAuth app it acts as the app in
   * `organizationId` (default: the only installed workspace); with an API key it ignores it.
   * Its requests wait for the token's Redis-shared budget; `priority` overrides their class.
   */
  linear(signal?: AbortSignal, organizationId?: string, opts?: { priority?: "critical" | "status" }): LinearClient;
  readonly anthropic: Anthropic;
  readonly runner: AgentRunner;
}

/** Everything the server and the workers share, built once per process. */
export interface Deps {
  readonly config: Config;
  readonly logger: Logger;
  /** Fail-fast connection for request paths and queue producers. */
  readonly redis: Redis;
  /**
   * Patient connection (rides out a blip, bounded) under `tasks`, `spend` and `feedback` in a
   * process that runs workers, so a run's writes survive it; `redis` itself in any other process.
   */
  readonly workerRedis: Redis;
  readonly queues: Queues;
  readonly tasks: TaskStore;
  readonly feedback: FeedbackStore;
  readonly spend: SpendLedger;
  /** Live progress edits this process may make per minute, shared by all its agents. */
  readonly progressEdits: EditBudget;
  readonly limits: Limits;
  /** AGENT_CONCURRENCY agents at once in this process, across the implement and revise queues. */
  readonly agentSlots: LocalSlots;
  readonly cancellation: Cancellation;
  readonly routing: Routing;
  readonly workspace: Workspace;
  readonly clients: Clients | null;
  /** The Linear OAuth app (installs and per-workspace tokens) when LINEAR_CLIENT_ID is set. */
  readonly linearApp: LinearApp | null;
  /** Where agent commands and checks run: started (fail-closed) only in processes that run workers. */
  readonly sandbox: Sandbox;
  /** Aborted when the process shuts down: agents finish their current turn, save and hand over. */
  readonly draining: AbortController;
  close(): Promise<void>;
}

/** Overrides for tests and the demo (e.g. a scripted agent runner). */
export interface DepsOverrides {
  logger?: Logger;
  redisTimeoutMs?: number;
  runner?: AgentRunner;
  /** The roles this process plays; a process without workers starts no sandbox. Default: both. */
  roles?: readonly Role[];
}

/**
 * Builds the process's dependencies from config and waits until Redis answers (BullMQ checks the
 * server version as a queue opens, which a fail-fast connection cannot do before it is up).
 * `close()` releases everything in reverse order.
 */
export async function createDeps(config: Config, opts: DepsOverrides = {}): Promise<Deps> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel });
  const routing = await loadRouting(config.routing.configFile, config.routing.defaultRepo, {
    model: config.agent.model,
    maxTokens: config.agent.maxTokens,
  });
  const redis = await connectRedis(config, logger, opts.redisTimeoutMs ?? 10_000);
  const queues = createQueues(redis, config.redisPrefix);
  // Renewed token pairs are written through a patient connection: Linear has already rotated them.
  const appRedis = config.linear.app ? createRedis(config.redisUrl, "patient") : undefined;
  appRedis?.on("error", () => undefined);
  const linearApp = createLinearApp(config, redis, logger, appRedis);
  let clients: Clients | null;
  try {
    clients = await createClients(config, logger, opts.runner, linearApp, redis);
  } catch (err) {
    appRedis?.disconnect();
    redis.disconnect();
    throw err;
  }
  const runsAgents = clients !== null && (opts.roles ?? ["server", "worker"]).includes("worker");
  let sandbox: Sandbox;
  try {
    sandbox = runsAgents ? await startSandbox(sandboxSettings(config, logger)) : NO_WORKERS;
  } catch (err) {
    appRedis?.disconnect();
    redis.disconnect();
    throw err;
  }
  const cancellation = new Cancellation(redis, () => createRedis(config.redisUrl, "worker"), config.redisPrefix, logger);
  const workerRedis = runsAgents ? createRedis(config.redisUrl, "patient") : redis;
  // The fail-fast connection already reports the same outage.
  if (workerRedis !== redis) workerRedis.on("error", () => undefined);
  return {
    config,
    logger,
    redis,
    workerRedis,
    queues,
    tasks: new TaskStore(workerRedis, config.redisPrefix),
    feedback: new FeedbackStore(workerRedis, config.redisPrefix),
    spend: new SpendLedger(workerRedis, config.redisPrefix),
    progressEdits: new EditBudget(20),
    limits: new Limits(redis, config.redisPrefix),
    agentSlots: new LocalSlots(config.agent.concurrency),
    cancellation,
    routing,
    workspace: new Workspace({ dataDir: config.dataDir, baseEnv: { ...config.childEnv }, logger, maxParked: parkedTrees(config) }),
    clients,
    linearApp,
    sandbox,
    draining: createDrain(config.agent.concurrency),
    async close() {
      await cancellation.close();
      await queues.close().catch((err: unknown) => logger.warn({ err }, "closing queues failed"));
      await sandbox.close();
      // Workforce counters are held in the process for a few seconds (cluster-counters.ts).
      await closeCounters(workerRedis).catch((err: unknown) => logger.warn({ err }, "sending the last workforce counters failed"));
      if (workerRedis !== redis) workerRedis.disconnect();
      appRedis?.disconnect();
      redis.disconnect();
    },
  };
}

/**
 * Trees kept for reuse. Without a sandbox the agent can write its worktree's index, which reuse
 * trusts (workspace/parked.ts), so nothing is parked.
 */
function parkedTrees(config: Config): number {
  return config.agent.sandbox === "none" ? 0 : config.parkedTrees;
}

/** The sandbox of a process that runs no workers: it has no agent to run. */
const NO_WORKERS: Sandbox = {
  kind: "none",
  jail() {
    throw new Error("this process runs no workers, so it has no agent sandbox: start it with the worker role");
  },
  close: async () => undefined,
};

function sandboxSettings(config: Config, logger: Logger) {
  return {
    mode: config.agent.sandbox,
    allowedDomains: config.agent.allowedDomains,
    path: config.childEnv.PATH ?? "",
    // The service's own files (its code, its .env) and every job's data stay out of sight.
    hidden: [config.dataDir, process.cwd()],
    logger,
  };
}

function createLinearApp(config: Config, redis: Redis, logger: Logger, patientRedis: Redis | undefined): LinearApp | null {
  const app = config.linear.app;
  if (!app) return null;
  const installUrl = config.publicUrl ? `${config.publicUrl}/oauth/linear/install` : undefined;
  return new LinearApp(app, { apiUrl: config.linear.apiUrl, redis, patientRedis, prefix: config.redisPrefix, logger, installUrl });
}

async function createClients(config: Config, logger: Logger, runner: AgentRunner | undefined, app: LinearApp | null, redis: Redis): Promise<Clients | null> {
  const { github, linear, anthropic: a } = config;
  if (!(github.token || github.app) || !(app || linear.apiKey) || !a.apiKey) return null;
  const linearKey = linear.apiKey;
  const apiUrl = linear.apiUrl;
  const budget = new LinearBudget(redis, config.redisPrefix, { requestsPerHour: linear.requestsPerHour ?? (app ? LINEAR_LIMITS.app : LINEAR_LIMITS.apiKey), burst: linear.requestBurst }, logger.child({ component: "linear-budget" }));
  // One budget per token identity: the app's user in an organization, or the API key.
  const pacing = (organizationId: string | undefined, priority?: "critical" | "status"): LinearPacing => {
    let found: Promise<TokenBudget> | undefined;
    const of = async () => budget.of(app ? `app:${app.config.clientId}:${organizationId ?? (await app.defaultOrganization())}` : `key:${linearKey ?? ""}`);
    return {
      // Found once per client; a failed look (no installation yet) is asked again next time.
      budget: () => (found ??= of().catch((err: unknown) => { found = undefined; throw err; })),
      ...(priority ? { priority } : {}),
    };
  };
  const anthropic = createAnthropic({ apiKey: a.apiKey, baseUrl: a.baseUrl });
  return {
    github: githubAccess(config, logger, redis),
    // The app, when configured, is the one Linear identity (an API key also set is not used).
    linear: app
      ? (signal, organizationId, opts) => createLinearClient({ tokens: app.tokenSource(organizationId), apiUrl, signal, pacing: pacing(organizationId, opts?.priority) })
      : (signal, _organizationId, opts) => createLinearClient({ apiKey: linearKey ?? "", apiUrl, signal, pacing: pacing(undefined, opts?.priority) }),
    anthropic,
    runner:
      runner ??
      // Claude Code only when chosen: its SDK is an optional package the operator installs.
      (config.agent.runtime === "claude-code" ? await createClaudeCodeRunner(config, logger) : undefined) ??
      new AnthropicRunner({
        client: anthropic,
        model: config.agent.model,
        maxTokens: config.agent.maxTokens,
        commandEnv: { ...config.childEnv },
        commandTimeoutMs: config.agent.commandTimeoutMs,
        pricing: new Pricing(config.agent.modelPrices),
        contextWindow: config.agent.contextWindow,
        contextThreshold: config.agent.contextThreshold,
        cacheRefreshMs: config.agent.cacheRefreshMs,
      }),
  };
}

/** GitHub as the App (its installations' tokens) when configured, else as GITHUB_TOKEN's user. */
function githubAccess(config: Config, logger: Logger, redis: Redis): GitHubAccess {
  const { github } = config;
  const common = { baseUrl: github.apiUrl, logger, writeSpacingMs: github.writeSpacingMs };
  // GitHub's limits are per token (per installation for an App): every process paces one budget per identity in Redis.
  const limiter = createGitHubLimiter({ redis, prefix: config.redisPrefix, logger, requestsPerHour: github.requestsPerHour });
  if (github.app) {
    // No credentials in the Octokit itself: appAccess puts the App's JWT or an installation's token on each request.
    return appAccess({ app: github.app, logger, octokit: (identity) => createOctokit({ token: "", ...common, limiter: limiter.forIdentity(identity) }) });
  }
  const token = github.token ?? "";
  return tokenAccess({
    octokit: createOctokit({ token, ...common, limiter }),
    token,
    author: { name: config.agent.gitName, email: config.agent.gitEmail },
  });
}

async function connectRedis(config: Config, logger: Logger, timeoutMs: number): Promise<Redis> {
  const redis = createRedis(config.redisUrl, "producer");
  let lastError = "";
  redis.on("error", (err: Error) => {
    // ioredis repeats the same error on every reconnect attempt; log each distinct one once.
    if (err.message !== lastError) logger.warn({ err: err.message }, "redis connection error");
    lastError = err.message;
  });
  redis.on("ready", () => {
    if (lastError) logger.info("redis connection restored");
    lastError = "";
  });
  try {
    if (redis.status !== "ready") {
      await withTimeout(
        new Promise<void>((resolve) => redis.once("ready", () => resolve())),
        timeoutMs,
        `Redis at ${redactUrl(config.redisUrl)} did not answer: start one (e.g. \`redis-server\`) or set REDIS_URL; waited`,
      );
    }
    await assertNoEviction(redis, redactUrl(config.redisUrl));
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  return redis;
}
