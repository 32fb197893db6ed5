import type { Redis } from "ioredis";

const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;
const EXTEND = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`;

// Semaphore as a sorted set of holder → expiry: expired holders (crashed workers) fall out.
const SEM_ACQUIRE = `
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

/** A held lease that must be released, renewed automatically while held. */
export interface Lease {
  release(): Promise<void>;
}

const TTL_MS = 60_000;
const RENEW_MS = 20_000;

function renewing(renew: () => Promise<unknown>, release: () => Promise<unknown>): Lease {
  const timer = setInterval(() => void renew().catch(() => undefined), RENEW_MS);
  timer.unref();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await release().catch(() => undefined);
    },
  };
}

/**
 * Limits shared by every worker process through Redis: one agent per issue (and so per branch),
 * at most `maxAgents` per repository. Leases expire if a worker dies, and are renewed while held.
 */
export class Limits {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** Takes the issue's lock for `holder`, or returns null when another job holds it. */
  async lockIssue(issueId: string, holder: string): Promise<Lease | null> {
    const key = `${this.prefix}:lock:issue:${issueId}`;
    const ok = await this.redis.set(key, holder, "PX", TTL_MS, "NX");
    if (ok !== "OK" && (await this.redis.get(key)) !== holder) return null;
    return renewing(
      () => this.redis.eval(EXTEND, 1, key, holder, String(TTL_MS)),
      () => this.redis.eval(RELEASE, 1, key, holder),
    );
  }

  /** Who holds the issue's lock, if anyone. */
  async issueHolder(issueId: string): Promise<string | null> {
    return this.redis.get(`${this.prefix}:lock:issue:${issueId}`);
  }

  /** Takes one of the repository's `max` slots for `holder`, or returns null when all are taken. */
  async acquireRepoSlot(repo: string, holder: string, max: number): Promise<Lease | null> {
    const key = `${this.prefix}:slots:repo:${repo.toLowerCase()}`;
    const acquire = () =>
      this.redis.eval(SEM_ACQUIRE, 1, key, String(Date.now()), String(Date.now() + TTL_MS), holder, String(max), String(TTL_MS * 10));
    if ((await acquire()) !== 1) return null;
    return renewing(acquire, () => this.redis.zrem(key, holder));
  }

  /** How many agents hold slots in the repository now. */
  async repoSlotsInUse(repo: string): Promise<number> {
    const key = `${this.prefix}:slots:repo:${repo.toLowerCase()}`;
    return this.redis.zcount(key, String(Date.now()), "+inf");
  }
}
