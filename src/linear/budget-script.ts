// Lua run by TokenBudget (request-budget.ts): one atomic step per decision, so two processes
// never both take the last token. The shared pieces (Redis time, refill, pause marker, key
// lifetime) are in src/redis-token-budget.ts.
import { BUDGET_LUA } from "../redis-token-budget.js";

/**
 * Takes one request from a token's budget. KEYS: 1 the bucket (hash: tokens, at), 2 the pause
 * marker (Linear said to wait), 3 critical waiters (zset: waiter → expiry). ARGV: 1 capacity,
 * 2 refill per ms, 3 "critical" or "status", 4 tokens a status call must leave for critical
 * ones, 5 waiter id, 6 how long a waiter entry counts (ms).
 *
 * Returns 0 when the request may go now, else the ms to wait before asking again. A critical
 * call that must wait registers as a waiter; while any critical call waits, in any process, no
 * status call takes a token, so status updates can never starve the calls that matter.
 */
export const TAKE = `${BUDGET_LUA}
local now = now_ms()
local paused = pause_left(KEYS[2])
if paused > 0 then return paused end
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local ttl = key_ttl(cap, rate)
local tokens, at = refilled(KEYS[1], cap, rate, now)
local need = 1
redis.call("ZREMRANGEBYSCORE", KEYS[3], "-inf", now)
if ARGV[3] == "status" then
  if redis.call("ZCARD", KEYS[3]) > 0 then
    save(KEYS[1], tokens, math.max(now, at), ttl)
    return math.max(1, math.ceil(1 / rate))
  end
  need = 1 + tonumber(ARGV[4])
end
if tokens >= need then
  save(KEYS[1], tokens - 1, math.max(now, at), ttl)
  if ARGV[3] == "critical" then redis.call("ZREM", KEYS[3], ARGV[5]) end
  return 0
end
save(KEYS[1], tokens, math.max(now, at), ttl)
local wait = math.max(1, math.ceil((need - tokens) / rate))
if ARGV[3] == "critical" then
  redis.call("ZADD", KEYS[3], now + wait + tonumber(ARGV[6]), ARGV[5])
  redis.call("PEXPIRE", KEYS[3], ttl)
end
return wait`;

/**
 * Linear answered RATELIMITED: every process waits ARGV[1] ms (never shortening a longer pause).
 * KEYS: 1 the bucket, 2 the pause marker. ARGV: 1 pause (ms), 2 capacity, 3 refill per ms.
 *
 * The bucket keeps its tokens: once Linear's own window resets, pacing goes on from where it was
 * (emptying it would also hold every status update until a quarter of the bucket refilled).
 */
export const PAUSE = `${BUDGET_LUA}
local ms = tonumber(ARGV[1])
pause_at_least(KEYS[2], ms)
hold_until(KEYS[1], now_ms(), ms, key_ttl(tonumber(ARGV[2]), tonumber(ARGV[3])))
return ms`;
