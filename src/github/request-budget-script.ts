// Lua run by GitHubBudget (request-budget.ts): one atomic step per decision, so two processes never
// both take the last request or the same write slot. Time comes from Redis (TIME), the one clock
// every process shares.

/**
 * Takes one request from an identity's budget. KEYS: 1 the bucket (hash: tokens, at), 2 the pause
 * marker (GitHub said to wait), 3 the next write's earliest time, 4 the next notifying write's.
 * ARGV: 1 capacity, 2 refill per ms, 3 "read" | "write" | "notify", 4 write spacing (ms),
 * 5 notifying write spacing (ms), 6 bucket lifetime (ms).
 *
 * Returns 0 when the request may go now (its token and write slots are taken), else the ms to
 * wait before asking again. Nothing is taken while anything says wait, so a write that waits for
 * its slot does not also spend a request.
 */
export const TAKE = `
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = redis.call("PTTL", KEYS[2])
if paused > 0 then return paused end
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local kind = ARGV[3]
local wait = 0
if kind ~= "read" then
  wait = math.max(wait, (tonumber(redis.call("GET", KEYS[3])) or 0) - now)
  if kind == "notify" then wait = math.max(wait, (tonumber(redis.call("GET", KEYS[4])) or 0) - now) end
end
local state = redis.call("HMGET", KEYS[1], "tokens", "at")
local tokens = tonumber(state[1]) or cap
local at = tonumber(state[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - at) * rate)
if tokens < 1 then wait = math.max(wait, math.ceil((1 - tokens) / rate)) end
if wait > 0 then
  redis.call("HSET", KEYS[1], "tokens", tostring(tokens), "at", math.max(now, at))
  redis.call("PEXPIRE", KEYS[1], ARGV[6])
  return wait
end
redis.call("HSET", KEYS[1], "tokens", tostring(tokens - 1), "at", math.max(now, at))
redis.call("PEXPIRE", KEYS[1], ARGV[6])
if kind ~= "read" and tonumber(ARGV[4]) > 0 then
  redis.call("SET", KEYS[3], now + tonumber(ARGV[4]), "PX", ARGV[4])
end
if kind == "notify" and tonumber(ARGV[5]) > 0 then
  redis.call("SET", KEYS[4], now + tonumber(ARGV[5]), "PX", ARGV[5])
end
return 0`;

/**
 * What GitHub answered about the identity's primary limit. KEYS: 1 the bucket, 2 the pause marker.
 * ARGV: 1 requests remaining, 2 ms until GitHub's window resets, 3 capacity, 4 refill per ms,
 * 5 bucket lifetime (ms).
 *
 * None left: every process pauses until the reset (never shortening a longer pause); the bucket
 * does not refill during the pause. Some left: the bucket holds at most that many (someone else
 * spends this token too), so the pacing never promises what GitHub no longer has.
 */
export const SYNC = `
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local remaining = tonumber(ARGV[1])
local reset = tonumber(ARGV[2])
if remaining <= 0 then
  if reset <= 0 then return 0 end
  if redis.call("PTTL", KEYS[2]) < reset then redis.call("SET", KEYS[2], "1", "PX", reset) end
  redis.call("HSET", KEYS[1], "at", now + reset)
  redis.call("PEXPIRE", KEYS[1], math.max(tonumber(ARGV[5]), reset * 2))
  return reset
end
local cap = tonumber(ARGV[3])
if remaining >= cap then return 0 end
local state = redis.call("HMGET", KEYS[1], "tokens", "at")
local tokens = tonumber(state[1]) or cap
local at = tonumber(state[2]) or now
if at > now then return 0 end
tokens = math.min(cap, tokens + (now - at) * tonumber(ARGV[4]))
if remaining < tokens then
  redis.call("HSET", KEYS[1], "tokens", tostring(remaining), "at", now)
  redis.call("PEXPIRE", KEYS[1], ARGV[5])
end
return 0`;

/**
 * GitHub said to wait (a secondary limit's `retry-after`): every process pauses ARGV[1] ms, never
 * shortening a longer pause. KEYS: 1 the pause marker.
 */
export const PAUSE = `
local ms = tonumber(ARGV[1])
if redis.call("PTTL", KEYS[1]) < ms then redis.call("SET", KEYS[1], "1", "PX", ms) end
return ms`;
