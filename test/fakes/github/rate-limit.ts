/**
 * GitHub's primary rate limit, per token identity (a user, an App installation, an App's JWTs),
 * shared by every caller of the fake: a fixed window of `limit` requests per `windowMs`.
 */
import type { Identity } from "./auth.js";
import type { RouteResult } from "./http.js";
import { userId } from "./state.js";

const DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit";

export interface RateLimitSettings {
  limit: number;
  windowMs: number;
}

export interface RateLimitTake {
  headers: Record<string, string>;
  /** GitHub's refusal when the identity has used up its window, else null. */
  refusal: RouteResult | null;
}

/** The figure GitHub names in its refusal: "for installation ID 42", "for user ID 10001". */
function subject(identity: Identity): string {
  if (identity.kind === "installation") return `installation ID ${identity.installation.id}`;
  if (identity.kind === "app") return `app ID ${identity.app.id}`;
  return `user ID ${userId(identity.login)}`;
}

export class RateLimiter {
  private settings: RateLimitSettings = { limit: 5000, windowMs: 3_600_000 };
  /** Off until set(): existing tests send thousands of requests and never meant to hit a limit. */
  private enforced = false;
  private readonly windows = new Map<string, { start: number; used: number }>();
  /** Requests refused for the primary rate limit. */
  exceeded = 0;

  /** Enforces `limit` requests per `windowMs` for each identity from now on (fresh windows). */
  set(settings: RateLimitSettings): void {
    if (!(settings.limit > 0) || !(settings.windowMs > 0)) {
      throw new Error("GitHub fake: setRateLimit needs a positive limit and windowMs");
    }
    this.settings = { ...settings };
    this.enforced = true;
    this.windows.clear();
  }

  /** Counts one request by `identity`, answering GitHub's headers and, past the limit, its 403. */
  take(identity: Identity, reqId: string, nowMs: number): RateLimitTake {
    const { limit, windowMs } = this.settings;
    let window = this.windows.get(identity.key);
    if (!window || nowMs >= window.start + windowMs) {
      window = { start: nowMs, used: 0 };
      this.windows.set(identity.key, window);
    }
    const reset = String(Math.ceil((window.start + windowMs) / 1000));
    const refused = this.enforced && window.used >= limit;
    if (!refused) window.used += 1;
    const headers = {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(Math.max(0, limit - window.used)),
      "x-ratelimit-reset": reset,
      "x-ratelimit-used": String(window.used),
      "x-ratelimit-resource": "core",
    };
    if (!refused) return { headers, refusal: null };
    this.exceeded += 1;
    const message =
      `API rate limit exceeded for ${subject(identity)}. ` +
      `If you reach out to GitHub Support for help, please include the request ID ${reqId}.`;
    return { headers, refusal: { status: 403, body: { message, documentation_url: DOCS }, headers } };
  }
}
