import type { Redis } from "ioredis";
import type { Logger } from "../logger.js";
import { BudgetRedis, identityHash } from "../redis-token-budget.js";
import { PAUSE, SYNC, TAKE } from "./request-budget-script.js";
import { sleep } from "../sleep.js";

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
  /**
   * The most requests per identity per window, default GitHub's 5,000. A ceiling: an identity for
   * which GitHub answers a smaller `x-ratelimit-limit` is paced to that.
   */
  requestsPerHour?: number;
  /** The window `requestsPerHour` counts in; GitHub's is an hour (tests shorten it). */
  windowMs?: number;
  /**
   * Requests that may go back to back after a quiet spell; default a tenth of the limit, at least 4
   * (GitHub counts in a fixed hour, and 500 reads at once stay inside its per-minute secondary limit).
   */
  burst?: number;
}

/** A token bucket: the most requests back to back, and the requests gained per ms. */
interface Pacing {
  capacity: number;
  perMs: number;
}

/** An identity's limits: the setting's ceiling, and the pacing of any limit up to it. */
interface Limits {
  ceiling: number;
  pace(limit: number): Pacing;
}

/** Longest single wait between two looks at the budget, so a long pause still notices an abort. */
const MAX_POLL_MS = 5_000;
/** How long Redis remembers the limit GitHub grants an identity, since it was last seen. */
const GRANTED_TTL_MS = 24 * 3_600_000;
/** How often a process that keeps seeing the same limit writes it to Redis again. */
const GRANTED_REFRESH_MS = 3_600_000;

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
  const ceiling = p.requestsPerHour ?? GITHUB_REQUESTS_PER_HOUR;
  const windowMs = p.windowMs ?? 3_600_000;
  if (!(ceiling >= 2) || !(windowMs > 0)) {
    throw new Error(`GitHub request budget: requestsPerHour must be at least 2 (got ${ceiling}); check GITHUB_REQUESTS_PER_HOUR`);
  }
  const limits: Limits = {
    ceiling,
    // The burst comes out of the window's allowance (refill (limit - burst) per window), so no
    // stretch of one window ever holds more than `limit` requests, however the window is placed.
    pace(limit) {
      const capacity = Math.min(Math.floor(limit / 2), Math.max(1, p.burst ?? Math.max(4, Math.round(limit / 10))));
      return { capacity, perMs: (limit - capacity) / windowMs };
    },
  };
  const log = p.logger.child({ component: "github-budget" });
  const budgets = new Map<string, IdentityBudget>();
  return {
    forIdentity(identity) {
      const hash = identityHash(identity);
      let budget = budgets.get(hash);
      if (!budget) {
        // An installation's or App's id is no secret; a token is named by its hash only.
        const label = /^(installation|app):\d+$/.test(identity) ? identity : `token ${hash.slice(0, 8)}`;
        budget = new IdentityBudget(p.redis, `${p.prefix}:github-budget:${hash}`, limits, log.child({ identity: label }));
        budgets.set(hash, budget);
      }
      return budget;
    },
  };
}

/**
 * One identity's budget: a token bucket in Redis shared by every process, paced to the smaller of
 * the setting and the limit GitHub grants the identity, a pause every process honours when GitHub
 * says the limit is spent, and the spacing of content-creating requests.
 */
export class IdentityBudget {
  private readonly link: BudgetRedis;
  /** The setting's pacing, until GitHub tells this process the identity's limit. */
  private readonly ceiling: Pacing;
  /** The limit GitHub grants (capped by the setting) as this process last wrote it to Redis. */
  private granted: { limit: number; pacing: Pacing; at: number } | null = null;

  constructor(
    redis: Redis,
    private readonly key: string,
    private readonly limits: Limits,
    private readonly logger: Logger,
  ) {
    this.link = new BudgetRedis(redis, logger, "GitHub request budget");
    this.ceiling = limits.pace(limits.ceiling);
  }

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
   * Shares what GitHub answered: `x-ratelimit-limit` below the setting lowers every process's
   * pacing of this identity; `x-ratelimit-remaining: 0` pauses every process until
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
    // Only the core limit is the identity's hourly budget (search, GraphQL have their own).
    const resource = headers["x-ratelimit-resource"];
    if (resource !== undefined && resource !== "core") return;
    const granted = this.grantedNews(Number(headers["x-ratelimit-limit"]));
    const remaining = Number(headers["x-ratelimit-remaining"]);
    const pacing = granted?.pacing ?? this.granted?.pacing ?? this.ceiling;
    // Plenty left and nothing new: nothing to share, and no Redis round trip per request.
    if (!granted && (!Number.isFinite(remaining) || remaining >= pacing.capacity)) return;
    // GitHub asks to wait until just after the reset (epoch seconds, GitHub's clock).
    const reset = Number(headers["x-ratelimit-reset"]);
    const resetInMs = Number.isFinite(reset) ? reset * 1000 + 1000 - Date.now() : 60_000;
    const k = this.key;
    const args = [Number.isFinite(remaining) ? remaining : Number.MAX_SAFE_INTEGER, Math.ceil(resetInMs), this.ceiling.capacity, this.ceiling.perMs, granted?.pacing.capacity ?? "", granted?.pacing.perMs ?? "", GRANTED_TTL_MS];
    const paused = await this.link.share(SYNC, [`${k}:bucket`, `${k}:paused`, `${k}:granted`], args, "could not share GitHub's rate limit answer through Redis");
    if (paused === null) return;
    if (granted) this.granted = granted;
    if (paused > 0) this.logger.warn({ pauseMs: paused }, "GitHub rate limit spent: every worker pauses this identity's requests until GitHub's reset");
  }

  /** The limit GitHub grants, capped by the setting, when Redis should hear of it (new or due again), else null. */
  private grantedNews(header: number): { limit: number; pacing: Pacing; at: number } | null {
    if (!Number.isFinite(header) || header < 1) return null;
    const limit = Math.max(2, Math.min(this.limits.ceiling, header));
    const now = Date.now();
    if (this.granted?.limit === limit && now - this.granted.at < GRANTED_REFRESH_MS) return null;
    if (this.granted?.limit !== limit && limit < this.limits.ceiling) {
      this.logger.info({ limit: header, setting: this.limits.ceiling }, "GitHub grants this identity fewer requests than GITHUB_REQUESTS_PER_HOUR: every worker paces it to GitHub's limit");
    }
    return { limit, pacing: this.limits.pace(limit), at: now };
  }

  private async pause(ms: number, why: string): Promise<void> {
    const paused = await this.link.share(PAUSE, [`${this.key}:paused`], [Math.ceil(ms)], "could not share GitHub's rate limit answer through Redis");
    if (paused !== null) this.logger.warn({ pauseMs: ms }, `GitHub ${why}: every worker pauses this identity's requests`);
  }

  /** 0 when a request may go now, else how long to wait. Redis unreachable: go (GitHub's own limit still answers). */
  private take(kind: RequestKind, spacing: WriteSpacing): Promise<number> {
    const k = this.key;
    const keys = [`${k}:bucket`, `${k}:paused`, `${k}:next-write`, `${k}:next-notify`, `${k}:granted`];
    return this.link.take(TAKE, keys, [this.ceiling.capacity, this.ceiling.perMs, kind, Math.max(0, Math.round(spacing.writeMs)), Math.max(0, Math.round(spacing.notifyMs))]);
  }
}
