// Lua run by IdentityBudget (request-budget.ts): one atomic step per decision, so two processes
// never both take the last request or the same write slot. The shared pieces (Redis time, refill,
// pause marker, key lifetime) are in src/redis-token-budget.ts.
import { BUDGET_LUA } from "../redis-token-budget.js";

// The pacing to keep: the setting's (ARGV cap, rate), or what GitHub grants the identity when that
// is less (learned from x-ratelimit-limit, a hash { cap, rate } at `key`).
const PACED = `${BUDGET_LUA}
local function paced(key, cap, rate)
  local learned = redis.call("HMGET", key, "cap", "rate")
  local lcap, lrate = tonumber(learned[1]), tonumber(learned[2])
  if lcap and lrate then return math.min(cap, lcap), math.min(rate, lrate) end
  return cap, rate
end
`;

/**
 * Takes one request from an identity's budget. KEYS: 1 the bucket (hash: tokens, at), 2 the pause
 * marker (GitHub said to wait), 3 the next write's earliest time, 4 the next notifying write's,
 * 5 the pacing GitHub grants (see SYNC). ARGV: 1 capacity, 2 refill per ms (the setting's),
 * 3 "read" | "write" | "notify", 4 write spacing (ms), 5 notifying write spacing (ms).
 *
 * Returns 0 when the request may go now (its token and write slots are taken), else the ms to
 * wait before asking again. Nothing is taken while anything says wait, so a write that waits for
 * its slot does not also spend a request.
 */
export const TAKE = `${PACED}
local now = now_ms()
local paused = pause_left(KEYS[2])
if paused > 0 then return paused end
local cap, rate = paced(KEYS[5], tonumber(ARGV[1]), tonumber(ARGV[2]))
local ttl = key_ttl(cap, rate)
local kind = ARGV[3]
local wait = 0
if kind ~= "read" then
  wait = math.max(wait, (tonumber(redis.call("GET", KEYS[3])) or 0) - now)
  if kind == "notify" then wait = math.max(wait, (tonumber(redis.call("GET", KEYS[4])) or 0) - now) end
end
local tokens, at = refilled(KEYS[1], cap, rate, now)
if tokens < 1 then wait = math.max(wait, math.ceil((1 - tokens) / rate)) end
if wait > 0 then
  save(KEYS[1], tokens, math.max(now, at), ttl)
  return wait
end
save(KEYS[1], tokens - 1, math.max(now, at), ttl)
if kind ~= "read" and tonumber(ARGV[4]) > 0 then
  redis.call("SET", KEYS[3], now + tonumber(ARGV[4]), "PX", ARGV[4])
end
if kind == "notify" and tonumber(ARGV[5]) > 0 then
  redis.call("SET", KEYS[4], now + tonumber(ARGV[5]), "PX", ARGV[5])
end
return 0`;

/**
 * What GitHub answered about the identity's primary limit. KEYS: 1 the bucket, 2 the pause marker,
 * 3 the pacing GitHub grants. ARGV: 1 requests remaining, 2 ms until GitHub's window resets,
 * 3 capacity, 4 refill per ms (the setting's), 5 and 6 the capacity and refill GitHub's
 * x-ratelimit-limit allows (empty: nothing new learned), 7 how long that is remembered (ms).
 *
 * None left: every process pauses until the reset (never shortening a longer pause); the bucket
 * does not refill during the pause. Some left: the bucket holds at most that many (someone else
 * spends this token too), so the pacing never promises what GitHub no longer has.
 */
export const SYNC = `${PACED}
local now = now_ms()
if ARGV[5] ~= "" then
  redis.call("HSET", KEYS[3], "cap", ARGV[5], "rate", ARGV[6])
  redis.call("PEXPIRE", KEYS[3], ARGV[7])
end
local cap, rate = paced(KEYS[3], tonumber(ARGV[3]), tonumber(ARGV[4]))
local ttl = key_ttl(cap, rate)
local remaining = tonumber(ARGV[1])
local reset = tonumber(ARGV[2])
if remaining <= 0 then
  if reset <= 0 then return 0 end
  pause_at_least(KEYS[2], reset)
  hold_until(KEYS[1], now, reset, ttl)
  return reset
end
if remaining >= cap then return 0 end
local tokens, at = refilled(KEYS[1], cap, rate, now)
if at > now then return 0 end
if remaining < tokens then save(KEYS[1], remaining, now, ttl) end
return 0`;

/**
 * GitHub said to wait (a secondary limit's `retry-after`): every process pauses ARGV[1] ms, never
 * shortening a longer pause. KEYS: 1 the pause marker.
 */
export const PAUSE = `${BUDGET_LUA}
local ms = tonumber(ARGV[1])
pause_at_least(KEYS[1], ms)
return ms`;
