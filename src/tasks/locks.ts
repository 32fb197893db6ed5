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

/**
 * A lease ran out while its holder still worked: another worker may now hold it (the issue's
 * branch, a repository slot), so the holder must stop. Not the user's doing: the job retries.
 */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
}

/** Called once when a held lease is found lost; the lease is no longer renewed after it. */
export type OnLeaseLost = (err: LeaseLostError) => void;

/** How long a lease lives without renewal, how often it is renewed, and how soon a failed renewal is retried. */
export interface LeaseTiming {
  ttlMs: number;
  renewMs: number;
  retryMs: number;
}

const DEFAULT_TIMING: LeaseTiming = { ttlMs: 60_000, renewMs: 20_000, retryMs: 2_000 };

/**
 * Renews a lease until it is released. `renew` answers whether the lease is still ours. An error
 * (Redis unreachable, a command timeout on the fail-fast connection) is retried soon rather than
 * treated as a loss, so a blip does not kill a long agent run; but once the lease's expiry has
 * passed without a successful renewal, nobody can tell whether another worker took it, so it is
 * lost too.
 */
function renewing(p: {
  what: string;
  renew: () => Promise<boolean>;
  release: () => Promise<unknown>;
  onLost: OnLeaseLost | undefined;
  timing: LeaseTiming;
}): Lease {
  const { ttlMs, renewMs, retryMs } = p.timing;
  let expiresAt = Date.now() + ttlMs;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (ms: number) => {
    timer = setTimeout(() => void tick(), Math.max(0, ms));
    timer.unref();
  };
  const lose = (message: string, cause?: unknown) => {
    stopped = true;
    p.onLost?.(new LeaseLostError(message, cause === undefined ? undefined : { cause }));
  };
  const tick = async () => {
    if (stopped) return;
    const sentAt = Date.now();
    let held: boolean;
    try {
      held = await p.renew();
    } catch (err) {
      if (stopped) return;
      if (Date.now() >= expiresAt) {
        const why = err instanceof Error ? err.message : String(err);
        return lose(`${p.what} could not be renewed before it expired (${why})`, err);
      }
      // Try again before the expiry, and once more at it, so a short outage costs nothing.
      return schedule(Math.min(retryMs, expiresAt - Date.now()));
    }
    if (stopped) return;
    if (!held) return lose(`${p.what} expired or was taken by another worker`);
    // Counted from when the renewal was sent: Redis may have applied it any time after that.
    expiresAt = sentAt + ttlMs;
    schedule(renewMs);
  };
  schedule(renewMs);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      stopped = true;
      clearTimeout(timer);
      await p.release().catch(() => undefined);
    },
  };
}

/**
 * Limits shared by every worker process through Redis: one agent per issue (and so per branch),
 * at most `maxAgents` per repository. Leases expire if a worker dies, and are renewed while held.
 */
export class Limits {
  private readonly timing: LeaseTiming;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    timing: Partial<LeaseTiming> = {},
  ) {
    this.timing = { ...DEFAULT_TIMING, ...timing };
  }

  /**
   * Takes the issue's lock for `holder`, or returns null when another job holds it. `onLost` is
   * called if the lock runs out while held (see `renewing`).
   */
  async lockIssue(issueId: string, holder: string, onLost?: OnLeaseLost): Promise<Lease | null> {
    const key = `${this.prefix}:lock:issue:${issueId}`;
    const ttl = String(this.timing.ttlMs);
    const ok = await this.redis.set(key, holder, "PX", this.timing.ttlMs, "NX");
    // Already ours (an earlier attempt of the same job): its expiry is unknown, so it restarts
    // now, where `renewing` counts it from.
    if (ok !== "OK" && (await this.redis.eval(EXTEND, 1, key, holder, ttl)) !== 1) return null;
    return renewing({
      what: `the lock on issue ${issueId}`,
      renew: async () => (await this.redis.eval(EXTEND, 1, key, holder, ttl)) === 1,
      release: () => this.redis.eval(RELEASE, 1, key, holder),
      onLost,
      timing: this.timing,
    });
  }

  /** Who holds the issue's lock, if anyone. */
  async issueHolder(issueId: string): Promise<string | null> {
    return this.redis.get(`${this.prefix}:lock:issue:${issueId}`);
  }

  /**
   * Takes one of the repository's `max` slots for `holder`, or returns null when all are taken.
   * `onLost` is called if the slot runs out while held and others took every slot meanwhile.
   */
  async acquireRepoSlot(repo: string, holder: string, max: number, onLost?: OnLeaseLost): Promise<Lease | null> {
    const key = `${this.prefix}:slots:repo:${repo.toLowerCase()}`;
    const { ttlMs } = this.timing;
    const acquire = async () =>
      (await this.redis.eval(SEM_ACQUIRE, 1, key, String(Date.now()), String(Date.now() + ttlMs), holder, String(max), String(ttlMs * 10))) === 1;
    if (!(await acquire())) return null;
    return renewing({
      what: `the agent slot in ${repo}`,
      renew: acquire,
      release: () => this.redis.zrem(key, holder),
      onLost,
      timing: this.timing,
    });
  }

  /** How many agents hold slots in the repository now. */
  async repoSlotsInUse(repo: string): Promise<number> {
    const key = `${this.prefix}:slots:repo:${repo.toLowerCase()}`;
    return this.redis.zcount(key, String(Date.now()), "+inf");
  }
}
