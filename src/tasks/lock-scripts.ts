// Lua run by Limits (locks.ts): each script is one atomic step, so no other worker's step falls
// between a check and the write that depends on it.

/** Deletes the key only while it holds ARGV[1]. */
export const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

/** Extends the key's life only while it holds ARGV[1]. */
export const EXTEND = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`;

/**
 * Takes the issue lock (KEYS[1]) as ARGV[2] ("<job id>#<run nonce>") when it is free or held by
 * another run of the same job (ARGV[1] = "<job id>#": a retry after a crash, or a woken run that
 * starts before the previous run released); the previous run's RELEASE then no longer matches.
 * A refused job is added to the issue's waiters (KEYS[2], ARGV[4]) in the same step, so a release
 * after this check always finds it.
 */
export const LOCK_ISSUE = `
local held = redis.call("GET", KEYS[1])
if held and string.sub(held, 1, #ARGV[1]) ~= ARGV[1] then
  if ARGV[4] ~= "" then
    redis.call("SADD", KEYS[2], ARGV[4])
    redis.call("PEXPIRE", KEYS[2], ARGV[5])
  end
  return 0
end
redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3])
if ARGV[4] ~= "" then redis.call("SREM", KEYS[2], ARGV[4]) end
return 1`;

/** Reads and forgets the set's members in one step, so two releasers never wake the same waiter twice. */
export const TAKE_ALL = `
local members = redis.call("SMEMBERS", KEYS[1])
redis.call("DEL", KEYS[1])
return members`;

// Semaphore as a sorted set of holder → expiry: expired holders (crashed workers) fall out.
/** Renews a held slot, or takes a free one regardless of any line (see TAKE_IN_TURN). */
export const SEM_ACQUIRE = `
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", ARGV[1])
if redis.call("ZSCORE", KEYS[1], ARGV[3]) then
  redis.call("ZADD", KEYS[1], ARGV[2], ARGV[3])
  return 1
end
if redis.call("ZCARD", KEYS[1]) < tonumber(ARGV[4]) then
  redis.call("ZADD", KEYS[1], ARGV[2], ARGV[3])
  redis.call("PEXPIRE", KEYS[1], ARGV[5])
  return 1
end
return 0`;

/**
 * First come, first served. KEYS: 1 slots (holder → expiry), 2 line (entry → arrival),
 * 3 seen (entry → when it stops counting), 4 the entry's wake mark. ARGV: 1 now, 2 the holder's
 * expiry, 3 holder, 4 max, 5 slots key TTL, 6 entry, 7 arrival, 8 how long an entry counts after
 * its job last looked.
 *
 * The entry joins the line (kept at its first arrival if it comes back) and takes a slot only
 * when it is within the first (free slots) of the line; then it leaves the line. Entries whose
 * job stopped looking fall out first. Returns 1 when the slot is taken, 2 when it is taken by an
 * entry that was waiting in line before this look (so those behind it moved up), else the line up to and including the
 * entry (its position is the length). The wake mark is cleared: this look is what
 * a wake asks for.
 */
export const TAKE_IN_TURN = `
local now = tonumber(ARGV[1])
redis.call("DEL", KEYS[4])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now)
local stale = redis.call("ZRANGEBYSCORE", KEYS[3], "-inf", now)
for _, m in ipairs(stale) do redis.call("ZREM", KEYS[2], m) end
redis.call("ZREMRANGEBYSCORE", KEYS[3], "-inf", now)
local waited = redis.call("ZSCORE", KEYS[2], ARGV[6]) and 1 or 0
if not redis.call("ZSCORE", KEYS[1], ARGV[3]) then
  redis.call("ZADD", KEYS[2], "NX", ARGV[7], ARGV[6])
  local rank = redis.call("ZRANK", KEYS[2], ARGV[6])
  local free = tonumber(ARGV[4]) - redis.call("ZCARD", KEYS[1])
  if rank >= free then
    redis.call("ZADD", KEYS[3], now + tonumber(ARGV[8]), ARGV[6])
    redis.call("PEXPIRE", KEYS[2], ARGV[8])
    redis.call("PEXPIRE", KEYS[3], ARGV[8])
    return redis.call("ZRANGE", KEYS[2], 0, rank)
  end
end
redis.call("ZADD", KEYS[1], ARGV[2], ARGV[3])
redis.call("PEXPIRE", KEYS[1], ARGV[5])
redis.call("ZREM", KEYS[2], ARGV[6])
redis.call("ZREM", KEYS[3], ARGV[6])
return 1 + waited`;
