import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import Bottleneck from "bottleneck";
import type { Logger } from "../logger.js";
import type { GitHubLimiter, IdentityBudget, RequestKind, WriteSpacing } from "./request-budget.js";

export { createGitHubLimiter, GITHUB_REQUESTS_PER_HOUR, type GitHubLimiter, type IdentityBudget } from "./request-budget.js";

/** The Octokit a plugin is given (@octokit/core's, before the REST methods are added). */
type CoreOctokit = Parameters<Parameters<typeof Octokit.plugin>[number]>[0];
type CoreOptions = Parameters<Parameters<typeof Octokit.plugin>[number]>[1];

// The option the shared-limits plugin reads, declared as Octokit's own plugins declare theirs.
declare module "@octokit/core" {
  interface OctokitOptions {
    sharedLimits?: SharedLimits;
  }
}

/** What the shared-limits plugin needs: an identity's budget and the write spacing to keep. */
interface SharedLimits {
  budget: IdentityBudget;
  spacing: WriteSpacing;
}

/**
 * Every request that reaches GitHub (a retry, and the auth strategy's own requests, too) waits
 * for its identity's Redis-shared budget, and what GitHub answers about the limit is shared with
 * every process. Listed before retry and throttling so its hook is the innermost of the three.
 */
function sharedLimits(octokit: CoreOctokit, options: CoreOptions): Record<string, never> {
  const limits = options.sharedLimits;
  if (!limits) return {};
  octokit.hook.wrap("request", async (request, opts) => {
    await limits.budget.acquire(requestKind(opts.method, opts.url), limits.spacing, opts.request?.signal as AbortSignal | undefined);
    try {
      const res = await request(opts);
      await limits.budget.observe(res.status, res.headers);
      return res;
    } catch (err) {
      const e = err as { status?: number; message?: string; response?: { headers?: Record<string, unknown> } };
      if (e.response?.headers) await limits.budget.observe(e.status, e.response.headers, e.message);
      throw err;
    }
  });
  return {};
}

/** As the throttling plugin classifies requests: writes (and GraphQL) are spaced, some writes notify people. */
function requestKind(method: string, url: string): RequestKind {
  const { pathname } = new URL(url, "http://github.test");
  if (method === "GET" || method === "HEAD") return pathname.startsWith("/graphql") ? "write" : "read";
  return throttling.triggersNotification(pathname) ? "notify" : "write";
}

const AgentOctokit = Octokit.plugin(sharedLimits, retry, throttling);
export type GitHub = InstanceType<typeof AgentOctokit>;

/**
 * How createOctokit authenticates: a token, an Octokit auth strategy, or nothing (the caller's
 * own hook sets each request's Authorization, as the App's installation clients do).
 */
export type OctokitAuth = { token: string } | { token?: undefined; authStrategy?: unknown; auth?: unknown };

/**
 * An Octokit with retry and throttling: `retry-after` and `x-ratelimit-reset` are respected,
 * secondary limits back off, writes are spaced. With `limiter`, the identity's limits are shared
 * through Redis by every process: pass the limiter itself for a token (its identity is the
 * token's hash), or `limiter.forIdentity("installation:<id>")` (`app:<id>` for the App's JWT
 * calls) for an Octokit without a token.
 */
export function createOctokit(
  p: OctokitAuth & {
    baseUrl: string;
    logger: Logger;
    maxRetries?: number;
    /** Minimum time between writes; requests that notify people (comments, reviews) wait 3× this. */
    writeSpacingMs?: number;
    limiter?: GitHubLimiter | IdentityBudget;
  },
): GitHub {
  const log = p.logger.child({ component: "github" });
  const maxRetries = p.maxRetries ?? 3;
  const spacing = p.writeSpacingMs ?? 1000;
  return new AgentOctokit({
    ...(p.token !== undefined ? { auth: p.token } : p.authStrategy ? { authStrategy: p.authStrategy, auth: p.auth } : {}),
    baseUrl: p.baseUrl.replace(/\/+$/, ""),
    userAgent: "agent-workforce",
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: (msg: string) => log.warn(msg),
      error: (msg: string) => log.error(msg),
    },
    retry: { retries: maxRetries },
    ...(p.limiter ? { sharedLimits: { budget: budgetOf(p.limiter, p.token), spacing: { writeMs: spacing, notifyMs: spacing * 3 } } } : {}),
    throttle: {
      // GitHub asks integrations to space content-creating requests; the plugin's own spacing
      // is 1 s for writes and 3 s for requests that notify people. These groups space this
      // Octokit's requests; the shared limits (when given) space every process's.
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime: spacing }),
      notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: spacing * 3 }),
      onRateLimit: (retryAfter, options, _octokit, retryCount) => {
        log.warn(
          { retryAfter, route: `${options.method} ${options.url}`, retryCount },
          "GitHub rate limit hit",
        );
        return retryCount < maxRetries;
      },
      onSecondaryRateLimit: (retryAfter, options, _octokit, retryCount) => {
        log.warn(
          { retryAfter, route: `${options.method} ${options.url}`, retryCount },
          "GitHub secondary rate limit hit",
        );
        return retryCount < maxRetries;
      },
    },
  });
}

function budgetOf(limiter: GitHubLimiter | IdentityBudget, token: string | undefined): IdentityBudget {
  if (!("forIdentity" in limiter)) return limiter;
  if (token === undefined) {
    throw new Error("createOctokit: an Octokit without a token needs its identity's budget: pass limiter.forIdentity(`installation:<id>`) or forIdentity(`app:<id>`)");
  }
  return limiter.forIdentity(`token:${token}`);
}
