import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { EXTEND, LOCK_ISSUE, RELEASE, SEM_ACQUIRE, TAKE_ALL, TAKE_IN_TURN } from "./lock-scripts.js";

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

/** A job waiting its turn: its queue and id (a job id never holds ':'). */
export interface LineEntry {
  queue: string;
  jobId: string;
}

/**
 * The answer of `takeRepoSlot`: the slot (and whether the job left the line with it, so the jobs
 * behind moved up), or where the job stands in the repository's line.
 */
export type TurnAnswer = { lease: Lease; leftLine: boolean } | { lease: null; position: number; ahead: LineEntry[] };

/** The stored form of an entry; `parseEntry` reads it back. */
export const entryKey = (e: LineEntry) => `${e.queue}:${e.jobId}`;

/** Reads an entry back from its stored form. */
export function parseEntry(stored: string): LineEntry {
  const at = stored.indexOf(":");
  return { queue: stored.slice(0, at), jobId: stored.slice(at + 1) };
}

/**
 * How long a line entry or a wake mark counts after its job last looked. A waiting job looks at
 * least once a minute (jobs/waiting.ts); this leaves room for a job that sits in the queue
 * behind busy workers before it can look again.
 */
const ENTRY_TTL_MS = 5 * 60_000;

/**
 * Limits shared by every worker process through Redis: one agent per issue (and so per branch),
 * at most `maxAgents` per repository, granted first come, first served. Leases expire if a
 * worker dies, and are renewed while held.
 */
export class Limits {
  private readonly timing: LeaseTiming;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    timing: Partial<LeaseTiming> = {},
    private readonly entryTtlMs = ENTRY_TTL_MS,
  ) {
    this.timing = { ...DEFAULT_TIMING, ...timing };
  }

  /**
   * Takes the issue's lock for `holder`, or returns null when another job holds it. `onLost` is
   * called if the lock runs out while held (see `renewing`). A refused `waiter` is remembered
   * for `takeIssueWaiters`.
   */
  async lockIssue(issueId: string, holder: string, onLost?: OnLeaseLost, waiter?: LineEntry): Promise<Lease | null> {
    const key = `${this.prefix}:lock:issue:${issueId}`;
    const ttl = String(this.timing.ttlMs);
    const value = `${holder}#${randomUUID()}`;
    const waiters = `${key}:waiters`;
    const taken = await this.redis.eval(LOCK_ISSUE, 2, key, waiters, `${holder}#`, value, ttl, waiter ? entryKey(waiter) : "", this.entryTtlMs);
    // Taken over from an earlier run of the same job too: its expiry restarts now, where
    // `renewing` counts it from.
    if (taken !== 1) return null;
    return renewing({
      what: `the lock on issue ${issueId}`,
      renew: async () => (await this.redis.eval(EXTEND, 1, key, value, ttl)) === 1,
      release: () => this.redis.eval(RELEASE, 1, key, value),
      onLost,
      timing: this.timing,
    });
  }

  /** Which job holds the issue's lock, if any. */
  async issueHolder(issueId: string): Promise<string | null> {
    const value = await this.redis.get(`${this.prefix}:lock:issue:${issueId}`);
    return value === null ? null : value.replace(/#[^#]*$/, "");
  }

  /** The jobs refused the issue's lock since the last call, forgotten as they are returned. */
  async takeIssueWaiters(issueId: string): Promise<LineEntry[]> {
    const stored = (await this.redis.eval(TAKE_ALL, 1, `${this.prefix}:lock:issue:${issueId}:waiters`)) as string[];
    return stored.map(parseEntry);
  }

  /**
   * Takes one of the repository's `max` slots for `holder` regardless of any line, or returns
   * null when all are taken. `onLost` is called if the slot runs out while held and others took
   * every slot meanwhile.
   */
  async acquireRepoSlot(repo: string, holder: string, max: number, onLost?: OnLeaseLost): Promise<Lease | null> {
    const key = this.slotsKey(repo);
    const { ttlMs } = this.timing;
    const acquire = async () =>
      (await this.redis.eval(SEM_ACQUIRE, 1, key, String(Date.now()), String(Date.now() + ttlMs), holder, String(max), String(ttlMs * 10))) === 1;
    if (!(await acquire())) return null;
    return this.slotLease(repo, holder, acquire, onLost);
  }

  /**
   * First come, first served: `entry` joins the repository's line at `arrivedAt` (a job that
   * comes back keeps its place) and takes a slot only when no earlier entry is still waiting for
   * it. Otherwise answers its position (1 = next) and the entries ahead of it.
   */
  async takeRepoSlot(repo: string, entry: LineEntry & { arrivedAt: number }, max: number, onLost?: OnLeaseLost): Promise<TurnAnswer> {
    const { ttlMs } = this.timing;
    const now = Date.now();
    const keys = [this.slotsKey(repo), this.lineKey(repo), `${this.lineKey(repo)}:seen`, this.wakeKey(entry)];
    const args = [now, now + ttlMs, entry.jobId, max, ttlMs * 10, entryKey(entry), entry.arrivedAt, this.entryTtlMs].map(String);
    const answer = (await this.redis.eval(TAKE_IN_TURN, keys.length, ...keys, ...args)) as number | string[];
    if (Array.isArray(answer)) return { lease: null, position: answer.length, ahead: answer.slice(0, -1).map(parseEntry) };
    const renew = async () =>
      (await this.redis.eval(SEM_ACQUIRE, 1, keys[0] as string, String(Date.now()), String(Date.now() + ttlMs), entry.jobId, String(max), String(ttlMs * 10))) === 1;
    return { lease: this.slotLease(repo, entry.jobId, renew, onLost), leftLine: answer === 2 };
  }

  /** The repository's line, first come first, up to `limit` entries. */
  async repoLine(repo: string, limit = 100): Promise<LineEntry[]> {
    const stored = await this.redis.zrange(this.lineKey(repo), "0", String(limit - 1));
    return stored.map((s) => parseEntry(s));
  }

  /** Takes `entry` out of the repository's line (its job ended or was removed). */
  async leaveRepoLine(repo: string, entry: LineEntry): Promise<void> {
    await this.redis.multi().zrem(this.lineKey(repo), entryKey(entry)).zrem(`${this.lineKey(repo)}:seen`, entryKey(entry)).exec();
  }

  /** How many agents hold slots in the repository now. */
  async repoSlotsInUse(repo: string): Promise<number> {
    return this.redis.zcount(this.slotsKey(repo), String(Date.now()), "+inf");
  }

  /**
   * Marks that something `entry` waits for was freed. A job that was still active (between its
   * look and going to sleep) cannot be woken any other way: it checks the mark once asleep.
   */
  async markWake(entry: LineEntry): Promise<void> {
    await this.redis.set(this.wakeKey(entry), "1", "PX", this.entryTtlMs);
  }

  /** Whether `entry` was marked for waking since its last look; clears the mark. */
  async takeWake(entry: LineEntry): Promise<boolean> {
    return (await this.redis.getdel(this.wakeKey(entry))) !== null;
  }

  private slotLease(repo: string, holder: string, renew: () => Promise<boolean>, onLost?: OnLeaseLost): Lease {
    return renewing({
      what: `the agent slot in ${repo}`,
      renew,
      release: () => this.redis.zrem(this.slotsKey(repo), holder),
      onLost,
      timing: this.timing,
    });
  }

  private slotsKey(repo: string): string {
    return `${this.prefix}:slots:repo:${repo.toLowerCase()}`;
  }

  private lineKey(repo: string): string {
    return `${this.prefix}:line:repo:${repo.toLowerCase()}`;
  }

  private wakeKey(entry: LineEntry): string {
    return `${this.prefix}:wake:${entryKey(entry)}`;
  }
}
