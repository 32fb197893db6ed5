// Lua run by RequestBudget (request-budget.ts): one atomic step per decision, so two processes
// never both take the last token. Time comes from Redis (TIME), the one clock all processes share.

/**
 * Takes one request from a token's budget. KEYS: 1 the bucket (hash: tokens, at), 2 the pause
 * marker (Linear said to wait), 3 critical waiters (zset: waiter → expiry). ARGV: 1 capacity,
 * 2 refill per ms, 3 "critical" or "status", 4 tokens a status call must leave for critical
 * ones, 5 waiter id, 6 how long a waiter entry counts (ms), 7 key lifetime (ms).
 *
 * Returns 0 when the request may go now, else the ms to wait before asking again. A critical
 * call that must wait registers as a waiter; while any critical call waits, in any process, no
 * status call takes a token, so status updates can never starve the calls that matter.
 */
export const TAKE = `
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = redis.call("PTTL", KEYS[2])
if paused > 0 then return paused end
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local state = redis.call("HMGET", KEYS[1], "tokens", "at")
local tokens = tonumber(state[1]) or cap
local at = tonumber(state[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - at) * rate)
local need = 1
redis.call("ZREMRANGEBYSCORE", KEYS[3], "-inf", now)
if ARGV[3] == "status" then
  if redis.call("ZCARD", KEYS[3]) > 0 then
    redis.call("HSET", KEYS[1], "tokens", tostring(tokens), "at", now)
    redis.call("PEXPIRE", KEYS[1], ARGV[7])
    return math.max(1, math.ceil(1 / rate))
  end
  need = 1 + tonumber(ARGV[4])
end
if tokens >= need then
  redis.call("HSET", KEYS[1], "tokens", tostring(tokens - 1), "at", now)
  redis.call("PEXPIRE", KEYS[1], ARGV[7])
  if ARGV[3] == "critical" then redis.call("ZREM", KEYS[3], ARGV[5]) end
  return 0
end
redis.call("HSET", KEYS[1], "tokens", tostring(tokens), "at", now)
redis.call("PEXPIRE", KEYS[1], ARGV[7])
local wait = math.max(1, math.ceil((need - tokens) / rate))
if ARGV[3] == "critical" then
  redis.call("ZADD", KEYS[3], now + wait + tonumber(ARGV[6]), ARGV[5])
  redis.call("PEXPIRE", KEYS[3], ARGV[7])
end
return wait`;

/**
 * Linear answered RATELIMITED: every process waits ARGV[1] ms (never shortening a longer pause);
 * the bucket refills from then on (max(0, now - at) keeps it from refilling during the pause).
 * KEYS: 1 the bucket, 2 the pause marker. ARGV: 1 pause (ms), 2 key lifetime (ms).
 */
export const PAUSE = `
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ms = tonumber(ARGV[1])
if redis.call("PTTL", KEYS[2]) < ms then redis.call("SET", KEYS[2], "1", "PX", ms) end
-- The bucket keeps its tokens: once Linear's own window resets, pacing goes on from where it was
-- (emptying it would also hold every status update until a quarter of the bucket refilled).
redis.call("HSET", KEYS[1], "at", now + ms)
redis.call("PEXPIRE", KEYS[1], math.max(tonumber(ARGV[2]), ms * 2))
return ms`;
