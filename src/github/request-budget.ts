import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "../logger.js";
import { PAUSE, SYNC, TAKE } from "./request-budget-script.js";

// Why our own Redis budget and not Bottleneck's clustering (which the throttling plugin offers
// through `throttle.connection`): tried with Bottleneck 2.19.5 and this project's ioredis 6,
// clustered write spacing does hold across processes, but
// - the primary limit needs a reservoir, and a clustered reservoir is only topped up on
//   Bottleneck's heartbeat (every 5 s), so pacing comes in lurches;
// - "GitHub said wait until x-ratelimit-reset" cannot be told to a clustered limiter: a reservoir
//   set to 0 refills by its own schedule, not at GitHub's reset;
// - two clustered limiters with the same id on one connection hang (the connection routes a
//   channel to one limiter), and every Octokit of an identity would need exactly one;
// - with Redis unreachable every clustered request fails, where GitHub's own limit still answers;
// - Bottleneck has had no release since 2019.
// The Linear client's token bucket (src/linear/request-budget.ts) has none of these, so GitHub
// gets the same design: one Lua step per decision, Redis time, keys that expire on their own.

/** GitHub's documented primary limit for a token or an App installation (installations may get more). */
export const GITHUB_REQUESTS_PER_HOUR = 5_000;

/** How a request is paced: a read spends a request; a write also waits its slot; a notifying write both slots. */
export type RequestKind = "read" | "write" | "notify";

/** Minimum ms between content-creating requests of one identity, across every process. */
export interface WriteSpacing {
  writeMs: number;
  notifyMs: number;
}

export interface GitHubLimiterSettings {
  /** Requests per identity per window; default GitHub's 5,000. */
  requestsPerHour?: number;
  /** The window `requestsPerHour` counts in; GitHub's is an hour (tests shorten it). */
  windowMs?: number;
  /**
   * Requests that may go back to back after a quiet spell; default a tenth of the limit, at least 4
   * (GitHub counts in a fixed hour, and 500 reads at once stay inside its per-minute secondary limit).
   */
  burst?: number;
}

/** Longest single wait between two looks at the budget, so a long pause still notices an abort. */
const MAX_POLL_MS = 5_000;

/** The Redis-shared GitHub budgets this process uses, one per token identity. */
export interface GitHubLimiter {
  /**
   * The shared limits of one identity: `installation:<id>` for an App installation, `app:<id>` for
   * the App's own (JWT) calls, `token:<token>` for a token. The identity is hashed before it names
   * anything in Redis; logs name a token by its hash only.
   */
  forIdentity(identity: string): IdentityBudget;
}

/** A limiter whose budgets live in Redis under `<prefix>:github-budget:<hash of identity>`. */
export function createGitHubLimiter(p: { redis: Redis; prefix: string; logger: Logger } & GitHubLimiterSettings): GitHubLimiter {
  const limit = p.requestsPerHour ?? GITHUB_REQUESTS_PER_HOUR;
  const windowMs = p.windowMs ?? 3_600_000;
  if (!(limit >= 2) || !(windowMs > 0)) {
    throw new Error(`GitHub request budget: requestsPerHour must be at least 2 (got ${limit}); check GITHUB_REQUESTS_PER_HOUR`);
  }
  // The burst comes out of the window's allowance (refill (limit - burst) per window), so no
  // stretch of one window ever holds more than `limit` requests, however the window is placed.
  const capacity = Math.min(Math.floor(limit / 2), Math.max(1, p.burst ?? Math.max(4, Math.round(limit / 10))));
  const pacing = { capacity, perMs: (limit - capacity) / windowMs };
  const log = p.logger.child({ component: "github-budget" });
  const budgets = new Map<string, IdentityBudget>();
  return {
    forIdentity(identity) {
      const hash = createHash("sha256").update(identity).digest("hex").slice(0, 32);
      let budget = budgets.get(hash);
      if (!budget) {
        // An installation's or App's id is no secret; a token is named by its hash only.
        const label = /^(installation|app):\d+$/.test(identity) ? identity : `token ${hash.slice(0, 8)}`;
        budget = new IdentityBudget(p.redis, `${p.prefix}:github-budget:${hash}`, pacing, log.child({ identity: label }));
        budgets.set(hash, budget);
      }
      return budget;
    },
  };
}

/**
 * One identity's budget: a token bucket in Redis shared by every process, a pause every process
 * honours when GitHub says the limit is spent, and the spacing of content-creating requests.
 */
export class IdentityBudget {
  private redisDown = false;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly pacing: { capacity: number; perMs: number },
    private readonly logger: Logger,
  ) {}

  /** Resolves when a request of `kind` may go; rejects with the signal's reason if aborted while waiting. */
  async acquire(kind: RequestKind, spacing: WriteSpacing, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const wait = await this.take(kind, spacing);
      if (wait <= 0) return;
      await sleep(Math.min(wait, MAX_POLL_MS), signal);
    }
  }

  /**
   * Shares what GitHub answered: `x-ratelimit-remaining: 0` pauses every process until
   * `x-ratelimit-reset`; a secondary limit's `retry-after` pauses them that long.
   */
  async observe(status: number | undefined, headers: Record<string, unknown>, message = ""): Promise<void> {
    const retryAfter = Number(headers["retry-after"]);
    const limited = status === 403 || status === 429;
    if (limited && (retryAfter > 0 || /secondary rate/i.test(message))) {
      // GitHub: with no retry-after, wait at least a minute.
      await this.pause(retryAfter > 0 ? retryAfter * 1000 : 60_000, "secondary rate limit");
      return;
    }
    const resource = headers["x-ratelimit-resource"];
    if (resource !== undefined && resource !== "core") return;
    const remaining = Number(headers["x-ratelimit-remaining"]);
    const reset = Number(headers["x-ratelimit-reset"]);
    // Plenty left: nothing to share, and no Redis round trip per request.
    if (!Number.isFinite(remaining) || remaining >= this.pacing.capacity) return;
    // GitHub asks to wait until just after the reset (epoch seconds, GitHub's clock).
    const resetInMs = Number.isFinite(reset) ? reset * 1000 + 1000 - Date.now() : 60_000;
    try {
      const paused = (await this.redis.eval(SYNC, 2, `${this.key}:bucket`, `${this.key}:paused`, String(remaining), String(Math.ceil(resetInMs)), String(this.pacing.capacity), String(this.pacing.perMs), String(this.ttlMs()))) as number;
      if (paused > 0) this.logger.warn({ pauseMs: paused }, "GitHub rate limit spent: every worker pauses this identity's requests until GitHub's reset");
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, "could not share GitHub's rate limit answer through Redis");
    }
  }

  private async pause(ms: number, why: string): Promise<void> {
    try {
      await this.redis.eval(PAUSE, 1, `${this.key}:paused`, String(Math.ceil(ms)));
      this.logger.warn({ pauseMs: ms }, `GitHub ${why}: every worker pauses this identity's requests`);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, "could not share GitHub's rate limit answer through Redis");
    }
  }

  /** 0 when a request may go now, else how long to wait. Redis unreachable: go (GitHub's own limit still answers). */
  private async take(kind: RequestKind, spacing: WriteSpacing): Promise<number> {
    const k = this.key;
    try {
      const wait = (await this.redis.eval(TAKE, 4, `${k}:bucket`, `${k}:paused`, `${k}:next-write`, `${k}:next-notify`, String(this.pacing.capacity), String(this.pacing.perMs), kind, String(Math.max(0, Math.round(spacing.writeMs))), String(Math.max(0, Math.round(spacing.notifyMs))), String(this.ttlMs()))) as number;
      if (this.redisDown) this.logger.info("GitHub request budget reachable again");
      this.redisDown = false;
      return wait;
    } catch (err) {
      if (!this.redisDown) this.logger.warn({ err: (err as Error).message }, "GitHub request budget unreachable: requests go unpaced until Redis answers");
      this.redisDown = true;
      return 0;
    }
  }

  // Long enough for a full bucket to refill, so an idle identity's state simply expires.
  private ttlMs(): number {
    return Math.ceil(this.pacing.capacity / this.pacing.perMs) + 60_000;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
