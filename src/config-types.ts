import type { ModelPrices } from "./agent/pricing.js";
import type { LinearAppConfig } from "./linear/oauth/settings.js";

// The shape of the configuration, apart from how config.ts reads and checks it.

/** Log levels pino accepts (LOG_LEVEL). */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Typed, frozen configuration; the only view of the environment the rest of the code gets. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly redisUrl: string;
  /** Namespaces every Redis key (queues, dedupe markers, task records). */
  readonly redisPrefix: string;
  readonly github: {
    readonly webhookSecret: string | undefined;
    readonly token: string | undefined;
    /** The GitHub App (GITHUB_APP_ID and its private key set): GitHub calls act as its installations. */
    readonly app: GitHubAppConfig | null;
    readonly apiUrl: string;
    readonly writeSpacingMs: number;
    /** GitHub's primary limit per token or installation, paced across every process through Redis. */
    readonly requestsPerHour: number;
  };
  readonly linear: {
    readonly webhookSecret: string | undefined;
    readonly apiKey: string | undefined;
    readonly apiUrl: string;
    /** The OAuth app (LINEAR_CLIENT_ID and LINEAR_CLIENT_SECRET set): Linear calls act as the app, per workspace. */
    readonly app: LinearAppConfig | null;
    /** Requests per hour per token, shared by all processes; unset: Linear's limit (1,200 app, 5,000 key). */
    readonly requestsPerHour: number | undefined;
    /** Requests that may go back to back after a quiet spell; unset: a hundredth of the hour (at least 4). */
    readonly requestBurst: number | undefined;
  };
  /** PUBLIC_URL without a trailing slash: where people and Linear reach this service. */
  readonly publicUrl: string | undefined;
  readonly anthropic: {
    readonly apiKey: string | undefined;
    readonly baseUrl: string | undefined;
  };
  readonly agentLabel: string;
  readonly dataDir: string;
  /** Finished worktrees kept per repository for the next job to reuse; 0 deletes them. */
  readonly parkedTrees: number;
  readonly logLevel: LogLevel;
  readonly webhookBodyLimitBytes: number;
  /** Protects the dashboard and the queue admin view when set. */
  readonly adminToken: string | undefined;
  readonly routing: {
    /** owner/name serving every issue no route claims. */
    readonly defaultRepo: string | undefined;
    /** Path of the YAML or JSON routing file. */
    readonly configFile: string | undefined;
  };
  readonly agent: {
    readonly model: string;
    /** AGENT_MODEL_PRICES: per model id, prices that extend or override the built-in table. */
    readonly modelPrices: Readonly<Record<string, ModelPrices>>;
    readonly maxTurns: number;
    /** AGENT_CONTEXT_THRESHOLD: what the agent sends stays under this share of `contextWindow`. */
    readonly contextThreshold: number;
    /** Tokens of the model's context window: AGENT_CONTEXT_WINDOW, else the model's own. */
    readonly contextWindow: number;
    /** While checks run longer than this, the runner refreshes the prompt cache; 0: never. */
    readonly cacheRefreshMs: number;
    readonly maxTokens: number;
    readonly budgetUsd: number;
    /** The short model call before a task's first run: ready, clarify or split (AGENT_TRIAGE*). */
    readonly triage: {
      readonly enabled: boolean;
      readonly model: string;
      /** An issue with this label skips triage (AGENT_GO_LABEL, default `agent:go`). */
      readonly goLabel: string;
    };
    /** How a manager splits large work into sub-issues (AGENT_MAX_SUBTASKS, AGENT_SPLIT_APPROVAL, AGENT_TREE_BUDGET_USD). */
    readonly split: {
      readonly maxSubtasks: number;
      /** ask: the plan is posted for approval first; auto: it is created at once. */
      readonly approval: "ask" | "auto";
      /** Caps a whole tree's spend; unset: AGENT_BUDGET_USD × the number of sub-issues. */
      readonly treeBudgetUsd: number | undefined;
    };
    /** Spend per UTC day across all agents; once reached, jobs wait for the next day. */
    readonly dailyBudgetUsd: number | undefined;
    readonly checkRounds: number;
    readonly concurrency: number;
    readonly commandTimeoutMs: number;
    /** How agent commands and checks are isolated: bubblewrap (required to start), or none. */
    readonly sandbox: "bubblewrap" | "none";
    /** Which agent runs: the built-in tool loop (anthropic) or Claude Code (claude-code). */
    readonly runtime: "anthropic" | "claude-code";
    /** Hosts (or *.domains) the sandbox's proxy lets agent commands reach; empty means no network. */
    readonly allowedDomains: readonly string[];
    readonly checkTimeoutMs: number;
    readonly gitName: string;
    readonly gitEmail: string;
    /** How people address the agent in PR comments, e.g. "@agent". */
    readonly handle: string;
    /** Quiet time that gathers a review's many webhooks into one revision. */
    readonly revisionDebounceMs: number;
  };
  /** The only environment git and agent commands get: no secrets, ever. */
  readonly childEnv: Readonly<Record<string, string>>;
  readonly jobs: {
    /** How often the reconciler looks for missed events and stuck tasks; 0 turns it off. */
    readonly reconcileIntervalMs: number;
    /**
     * Whether the reconciler starts issues that carried the agent label before its first sweep
     * (the install); by default only issues labelled since then are repaired.
     */
    readonly reconcileAdoptExisting: boolean;
    /** Lock of an agent job; a worker that dies loses it after this long and another resumes. */
    readonly lockMs: number;
    /** How often workers look for jobs whose worker died (BullMQ stall detection). */
    readonly stalledIntervalMs: number;
  };
}

/** A GitHub App's identity: its id and the PEM private key that signs its JWTs. */
export interface GitHubAppConfig {
  readonly appId: string;
  readonly privateKey: string;
}
