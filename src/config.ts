import { readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { KNOWN_MODELS, Pricing } from "./agent/pricing.js";
import { type Config, LOG_LEVELS } from "./config-types.js";
import {
  ALLOWED_DOMAIN,
  cacheRefreshSeconds,
  contextThreshold,
  contextWindowOf,
  contextWindowOverride,
  DEFAULT_ALLOWED_DOMAINS,
  githubAppId,
  githubAppPrivateKey,
  githubAuthProblems,
  modelPrices,
  secretsFromFiles,
  unknownContextWindowProblem,
} from "./config-settings.js";
import { encryptionKey, linearAppProblems, linearAppConfig, publicUrl } from "./linear/oauth/settings.js";

export { DEFAULT_ALLOWED_DOMAINS } from "./config-settings.js";
export type { Config, LogLevel } from "./config-types.js";

/** The roles a process can play; each needs a different set of settings. */
export type Role = "server" | "worker";

const optionalSecret = z
  .string()
  .trim()
  .min(1)
  .optional()
  .transform((v) => v || undefined);

const url = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .refine((v) => URL.canParse(v), { message: "must be an absolute URL" });

/** The package registries agents may reach by default: npm, PyPI, crates, Go modules, Maven Central, RubyGems. */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().trim().min(1).default("0.0.0.0"),
  REDIS_URL: url("redis://127.0.0.1:6379").refine((v) => /^rediss?:$/.test(new URL(v).protocol), {
    message: "must start with redis:// or rediss://",
  }),
  REDIS_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]+$/, "may contain only letters, digits, '.', '_' and '-'")
    .default("awf"),
  GITHUB_WEBHOOK_SECRET: optionalSecret,
  LINEAR_WEBHOOK_SECRET: optionalSecret,
  GITHUB_TOKEN: optionalSecret,
  // The GitHub App (recommended over GITHUB_TOKEN): its id and PEM private key.
  GITHUB_APP_ID: githubAppId,
  GITHUB_APP_PRIVATE_KEY: githubAppPrivateKey,
  GITHUB_API_URL: url("https://api.github.com"),
  GITHUB_WRITE_SPACING_MS: z.coerce.number().int().min(0).default(1000),
  // GitHub's primary limit per token or App installation, shared by every process through Redis.
  GITHUB_REQUESTS_PER_HOUR: z.coerce.number().int().min(2).default(5000),
  LINEAR_API_KEY: optionalSecret,
  LINEAR_API_URL: url("https://api.linear.app/graphql"),
  // The shared request budget per Linear token (default: Linear's documented limit for the mode).
  LINEAR_REQUESTS_PER_HOUR: z.coerce.number().int().positive().optional(),
  LINEAR_REQUEST_BURST: z.coerce.number().int().positive().optional(),
  // The Linear OAuth app (actor=app); see src/linear/oauth/settings.ts.
  LINEAR_CLIENT_ID: optionalSecret,
  LINEAR_CLIENT_SECRET: optionalSecret,
  LINEAR_AUTHORIZE_URL: url("https://linear.app/oauth/authorize"),
  PUBLIC_URL: publicUrl,
  TOKEN_ENCRYPTION_KEY: encryptionKey,
  LINEAR_ALLOWED_ORGANIZATIONS: z.string().optional(),
  ANTHROPIC_API_KEY: optionalSecret,
  ANTHROPIC_BASE_URL: z
    .string()
    .trim()
    .optional()
    .transform((v) => v || undefined)
    .refine((v) => v === undefined || URL.canParse(v), { message: "must be an absolute URL" }),
  AGENT_LABEL: z.string().trim().min(1).default("agent"),
  DATA_DIR: z.string().trim().min(1).default("./data"),
  // Each is a full checkout on disk: a large repository wants fewer.
  WORKSPACE_PARKED_TREES: z.coerce.number().int().min(0).max(64).default(4),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  WEBHOOK_BODY_LIMIT_BYTES: positiveInt(5 * 1024 * 1024),
  DEFAULT_REPO: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must look like owner/name")
    .optional(),
  AGENT_WORKFORCE_CONFIG: z.string().trim().min(1).optional(),
  AGENT_MODEL: z.string().trim().min(1).default("claude-sonnet-5-5"),
  // Prices of models the built-in table lacks (or overrides), as JSON keyed by model id.
  AGENT_MODEL_PRICES: z.string().trim().optional().transform(modelPrices),
  AGENT_MAX_TURNS: positiveInt(60),
  AGENT_CONTEXT_THRESHOLD: contextThreshold,
  AGENT_CONTEXT_WINDOW: contextWindowOverride,
  AGENT_CACHE_REFRESH_SECONDS: cacheRefreshSeconds,
  // The agent streams its model calls, so the bound is the models' own output limit (the API
  // refuses more than a given model allows, with a message naming it).
  AGENT_MAX_TOKENS: z.coerce.number().int().positive().max(128_000, "must be at most 128000, the largest output any model allows").default(16_000),
  AGENT_BUDGET_USD: z.coerce.number().positive().default(5),
  AGENT_TRIAGE: z.enum(["on", "off"]).default("on"),
  AGENT_TRIAGE_MODEL: z.string().trim().min(1).default("claude-haiku-4-5"),
  AGENT_GO_LABEL: z.string().trim().min(1).default("agent:go"),
  AGENT_MAX_SUBTASKS: z.coerce.number().int().min(2).max(20).default(6),
  AGENT_SPLIT_APPROVAL: z.enum(["ask", "auto"]).default("ask"),
  AGENT_TREE_BUDGET_USD: z.coerce.number().positive().optional(),
  AGENT_DAILY_BUDGET_USD: z.coerce.number().positive().optional(),
  ADMIN_TOKEN: optionalSecret,
  AGENT_CHECK_ROUNDS: z.coerce.number().int().min(0).default(2),
  AGENT_CONCURRENCY: positiveInt(2),
  AGENT_COMMAND_TIMEOUT_SECONDS: positiveInt(300),
  // The agent runtime: the built-in tool loop, or Claude Code (the optional, proprietary SDK the operator installs).
  AGENT_RUNTIME: z
    .string()
    .trim()
    .default("anthropic")
    .pipe(z.enum(["anthropic", "claude-code"], { error: (i) => `must be anthropic (the built-in agent, the default) or claude-code, not ${JSON.stringify(i.input)}` })),
  AGENT_SANDBOX: z
    .string()
    .trim()
    .default("bubblewrap")
    .pipe(
      z.enum(["bubblewrap", "none"], {
        error: (i) =>
          `must be bubblewrap (the default: agent commands run in a bubblewrap sandbox, and workers refuse to start without one) or none (no isolation), not ${JSON.stringify(i.input)}; auto and unshare are gone because they fell back to no isolation`,
      }),
    ),
  // Hosts the agent's commands may reach through the sandbox's allowlisting proxy; empty: no network.
  AGENT_ALLOWED_DOMAINS: z
    .string()
    .default(DEFAULT_ALLOWED_DOMAINS.join(","))
    .transform((v) => v.split(",").map((d) => d.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(ALLOWED_DOMAIN, "each entry must be a host name, *.domain or an IP address, optionally with :port"))),
  CHECK_TIMEOUT_SECONDS: positiveInt(1200),
  AGENT_HANDLE: z
    .string()
    .trim()
    .regex(/^@[A-Za-z0-9][A-Za-z0-9_-]*(\[bot\])?$/, "must look like @name")
    .default("@agent"),
  REVISION_DEBOUNCE_MS: z.coerce.number().int().min(0).default(5000),
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(0).default(300_000),
  RECONCILE_ADOPT_EXISTING: z
    .string()
    .trim()
    .toLowerCase()
    .default("false")
    .pipe(z.enum(["true", "false"], { error: (i) => `must be true or false, not ${JSON.stringify(i.input)}` }))
    .transform((v) => v === "true"),
  JOB_LOCK_MS: z.coerce.number().int().min(1000).default(120_000),
  JOB_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).default(30_000),
  AGENT_GIT_NAME: z.string().trim().min(1).default("agent-workforce[bot]"),
  AGENT_GIT_EMAIL: z.string().trim().email().default("agent-workforce@users.noreply.github.com"),
  // Read only to hand a minimal, secret-free environment to git and the agent's commands.
  PATH: z.string().default("/usr/local/bin:/usr/bin:/bin"),
  LANG: z.string().default("C.UTF-8"),
});

type Env = z.infer<typeof schema>;

/** Settings each role cannot run without, with the reason shown to the operator. */
const REQUIRED: Record<Role, Array<[keyof Env, string]>> = {
  server: [
    ["GITHUB_WEBHOOK_SECRET", "the secret set on the GitHub webhook, to verify X-Hub-Signature-256"],
    ["LINEAR_WEBHOOK_SECRET", "the signing secret of the Linear webhook, to verify Linear-Signature"],
  ],
  worker: [
    ["GITHUB_TOKEN", "a GitHub token with contents and pull-request write access (or GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY of a GitHub App, the recommended way)"],
    ["LINEAR_API_KEY", "a Linear API key to update issues and comments (or LINEAR_CLIENT_ID and LINEAR_CLIENT_SECRET of a Linear OAuth app)"],
    ["ANTHROPIC_API_KEY", "an Anthropic API key for the coding agent"],
  ],
};

/** Raised when the environment cannot be turned into a config; lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/**
 * Parses the environment once into a frozen config. Roles name which secrets must be present;
 * an empty list validates formats only. A secret may come from the file `<NAME>_FILE` names.
 * Values of secrets never appear in error messages.
 */
export function loadConfig(
  given: Record<string, string | undefined> = process.env,
  roles: readonly Role[] = [],
): Config {
  const { env, problems } = secretsFromFiles(given, (file) => readFileSync(file, "utf8"));
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? "environment");
      problems.push(`${name}: ${issue.message}`);
    }
  }
  for (const role of roles) {
    for (const [name, why] of REQUIRED[role]) {
      // The OAuth app stands in for the API key, the GitHub App for the token (their own settings are checked below).
      if (name === "LINEAR_API_KEY" && env.LINEAR_CLIENT_ID?.trim()) continue;
      if (name === "GITHUB_TOKEN" && (env.GITHUB_APP_ID?.trim() || env.GITHUB_APP_PRIVATE_KEY?.trim())) continue;
      if (!env[name]?.trim()) problems.push(`${name} is required to run the ${role}: ${why}`);
    }
  }
  if (parsed.success) {
    const unpriced = unpricedModelProblem(parsed.data, "AGENT_MODEL", parsed.data.AGENT_MODEL);
    if (unpriced) problems.push(unpriced);
    const triageUnpriced = parsed.data.AGENT_TRIAGE === "on" ? unpricedModelProblem(parsed.data, "AGENT_TRIAGE_MODEL", parsed.data.AGENT_TRIAGE_MODEL) : undefined;
    if (triageUnpriced) problems.push(`${triageUnpriced}; or set AGENT_TRIAGE=off`);
    const windowless = unknownContextWindowProblem(parsed.data.AGENT_MODEL, parsed.data.AGENT_CONTEXT_WINDOW);
    if (windowless) problems.push(windowless);
  }
  problems.push(...linearAppProblems(env), ...githubAuthProblems(env));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return freeze(toConfig(parsed.data));
}

/** The config of this process, from its environment (the one place that reads it). */
export function configFromEnvironment(roles: readonly Role[] = []): Config {
  return loadConfig(process.env, roles);
}

function toConfig(e: Env): Config {
  return {
    port: e.PORT,
    host: e.HOST,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    github: {
      webhookSecret: e.GITHUB_WEBHOOK_SECRET,
      token: e.GITHUB_TOKEN,
      app: e.GITHUB_APP_ID && e.GITHUB_APP_PRIVATE_KEY ? { appId: e.GITHUB_APP_ID, privateKey: e.GITHUB_APP_PRIVATE_KEY } : null,
      apiUrl: e.GITHUB_API_URL,
      writeSpacingMs: e.GITHUB_WRITE_SPACING_MS,
      requestsPerHour: e.GITHUB_REQUESTS_PER_HOUR,
    },
    linear: { webhookSecret: e.LINEAR_WEBHOOK_SECRET, apiKey: e.LINEAR_API_KEY, apiUrl: e.LINEAR_API_URL, app: linearAppConfig(e), requestsPerHour: e.LINEAR_REQUESTS_PER_HOUR, requestBurst: e.LINEAR_REQUEST_BURST },
    publicUrl: e.PUBLIC_URL,
    anthropic: { apiKey: e.ANTHROPIC_API_KEY, baseUrl: e.ANTHROPIC_BASE_URL },
    agentLabel: e.AGENT_LABEL,
    dataDir: path.resolve(e.DATA_DIR),
    parkedTrees: e.WORKSPACE_PARKED_TREES,
    logLevel: e.LOG_LEVEL,
    webhookBodyLimitBytes: e.WEBHOOK_BODY_LIMIT_BYTES,
    adminToken: e.ADMIN_TOKEN,
    routing: { defaultRepo: e.DEFAULT_REPO, configFile: e.AGENT_WORKFORCE_CONFIG },
    agent: {
      model: e.AGENT_MODEL,
      modelPrices: e.AGENT_MODEL_PRICES,
      maxTurns: e.AGENT_MAX_TURNS,
      contextThreshold: e.AGENT_CONTEXT_THRESHOLD,
      // Never 0: loadConfig refuses a model whose window is unknown before it gets here.
      contextWindow: contextWindowOf(e.AGENT_MODEL, e.AGENT_CONTEXT_WINDOW) ?? 0,
      cacheRefreshMs: e.AGENT_CACHE_REFRESH_SECONDS * 1000,
      maxTokens: e.AGENT_MAX_TOKENS,
      budgetUsd: e.AGENT_BUDGET_USD,
      triage: { enabled: e.AGENT_TRIAGE === "on", model: e.AGENT_TRIAGE_MODEL, goLabel: e.AGENT_GO_LABEL },
      split: { maxSubtasks: e.AGENT_MAX_SUBTASKS, approval: e.AGENT_SPLIT_APPROVAL, treeBudgetUsd: e.AGENT_TREE_BUDGET_USD },
      dailyBudgetUsd: e.AGENT_DAILY_BUDGET_USD,
      checkRounds: e.AGENT_CHECK_ROUNDS,
      concurrency: e.AGENT_CONCURRENCY,
      commandTimeoutMs: e.AGENT_COMMAND_TIMEOUT_SECONDS * 1000,
      sandbox: e.AGENT_SANDBOX,
      runtime: e.AGENT_RUNTIME,
      allowedDomains: e.AGENT_ALLOWED_DOMAINS,
      checkTimeoutMs: e.CHECK_TIMEOUT_SECONDS * 1000,
      gitName: e.AGENT_GIT_NAME,
      gitEmail: e.AGENT_GIT_EMAIL,
      handle: e.AGENT_HANDLE,
      revisionDebounceMs: e.REVISION_DEBOUNCE_MS,
    },
    childEnv: { PATH: e.PATH, LANG: e.LANG },
    jobs: {
      reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
      reconcileAdoptExisting: e.RECONCILE_ADOPT_EXISTING,
      lockMs: e.JOB_LOCK_MS,
      stalledIntervalMs: e.JOB_STALLED_INTERVAL_MS,
    },
  };
}

// Costs and budgets are only as right as the model's prices, so a model without any is refused
// rather than priced as some other model.
function unpricedModelProblem(e: Env, name: string, model: string): string | undefined {
  if (new Pricing(e.AGENT_MODEL_PRICES).pricesOf(model)) return undefined;
  return (
    `${name}: unknown model id ${model}: known models are ${KNOWN_MODELS.join(", ")} ` +
    `(or a dated snapshot of one); set AGENT_MODEL_PRICES to price it, e.g. ` +
    `AGENT_MODEL_PRICES='{"${model}":{"input":3,"output":15,"cacheWrite":3.75,"cacheRead":0.3}}' ` +
    "(USD per million tokens)"
  );
}

function freeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) freeze(v);
    Object.freeze(value);
  }
  return value;
}
