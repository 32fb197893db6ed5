// What the Redis-shared request budgets (GitHub's, src/github/request-budget.ts, and Linear's,
// src/linear/request-budget.ts) have in common: a token bucket in Redis changed by one Lua step per
// decision, Redis's clock, a pause marker every process honours, keys that expire on their own, and
// "Redis unreachable: go unpaced" (the API's own limit still answers).
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "./logger.js";

/** The hash that names an identity (a token, an app user) in Redis and logs, never the identity itself. */
export function identityHash(identity: string): string {
  return createHash("sha256").update(identity).digest("hex").slice(0, 32);
}

/**
 * Lua functions every budget script starts with. A bucket is a hash { tokens, at }: `at` is when
 * it was last written (Redis time, ms), or while paused, when the pause ends, so it does not refill
 * during a pause. `cap` is the most tokens it holds, `rate` the tokens it gains per ms.
 */
export const BUDGET_LUA = `
local function now_ms()
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- Long enough for an empty bucket to refill, so an idle identity's state simply expires.
local function key_ttl(cap, rate)
  return math.ceil(cap / rate) + 60000
end
-- The bucket's tokens now (refilled since at, never past cap) and its at.
local function refilled(bucket, cap, rate, now)
  local state = redis.call("HMGET", bucket, "tokens", "at")
  local tokens = tonumber(state[1]) or cap
  local at = tonumber(state[2]) or now
  return math.min(cap, tokens + math.max(0, now - at) * rate), at
end
local function save(bucket, tokens, at, ttl)
  redis.call("HSET", bucket, "tokens", tostring(tokens), "at", at)
  redis.call("PEXPIRE", bucket, ttl)
end
-- Ms left of a pause (0 when none).
local function pause_left(marker)
  return math.max(0, redis.call("PTTL", marker))
end
-- Pauses every process ms, never shortening a longer pause.
local function pause_at_least(marker, ms)
  if redis.call("PTTL", marker) < ms then redis.call("SET", marker, "1", "PX", ms) end
end
-- The bucket keeps its tokens but gains none until the pause ends, and outlives the pause.
local function hold_until(bucket, now, ms, ttl)
  redis.call("HSET", bucket, "at", now + ms)
  redis.call("PEXPIRE", bucket, math.max(ttl, ms * 2))
end
`;

/**
 * One budget's way to Redis. `take` runs a script that answers the ms to wait; while Redis is
 * unreachable it answers 0 (requests go unpaced, the API's own limit still answers), logging once
 * when Redis goes and once when it is back.
 */
export class BudgetRedis {
  private down = false;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    /** Names the budget in logs: "GitHub request budget". */
    private readonly name: string,
  ) {}

  /** The ms to wait the script answered, or 0 (go) while Redis is unreachable. */
  async take(script: string, keys: string[], args: Array<string | number>): Promise<number> {
    try {
      const wait = Number(await this.redis.eval(script, keys.length, ...keys, ...args.map(String)));
      if (this.down) this.logger.info(`${this.name} reachable again`);
      this.down = false;
      return wait;
    } catch (err) {
      if (!this.down) this.logger.warn({ err: (err as Error).message }, `${this.name} unreachable: requests go unpaced until Redis answers`);
      this.down = true;
      return 0;
    }
  }

  /** Runs a script that shares an answer (a pause, a limit); a failure is logged as `failure`, never thrown. Null then. */
  async share(script: string, keys: string[], args: Array<string | number>, failure: string): Promise<number | null> {
    try {
      return Number(await this.redis.eval(script, keys.length, ...keys, ...args.map(String)));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, failure);
      return null;
    }
  }
}
