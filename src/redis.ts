import { Redis, type RedisOptions } from "ioredis";

/**
 * How long a command on a "patient" connection may wait for Redis, queued while it reconnects or
 * sent and unanswered. Long enough for a restart, a failover or a latency spike; shorter than the
 * least an issue lease has left when Redis goes away (60 s TTL renewed every 20 s: 40 s), so a
 * job stuck on a write fails and is retried by BullMQ before its lease could pass to another
 * worker, instead of hanging on past it (the lease would stop the run at its expiry anyway).
 */
export const PATIENT_COMMAND_TIMEOUT_MS = 30_000;

/** What a connection is for, which decides how it behaves while Redis is away. */
export type RedisPurpose = "worker" | "producer" | "patient";

const PURPOSES: Record<RedisPurpose, RedisOptions> = {
  // BullMQ's blocking connections and subscribers: never give up (BullMQ requires it), no
  // command timeout (blocking commands wait on purpose).
  worker: { maxRetriesPerRequest: null, enableReadyCheck: true },
  // A request path: commands fail at once while Redis is away, so a webhook gets a quick 503.
  // Auto-pipelining sends every command issued in one event-loop turn (the marker and job of each
  // webhook handled in it) in one write: on loopback a write costs about as much as the command.
  producer: {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: 900,
    connectTimeout: 2_000,
    enableAutoPipelining: true,
  },
  // Workers' own writes (task records, spend, turns) in the middle of a run: queued through a
  // reconnect and waited for through a stall, bounded by one command timeout from when they were
  // issued, whichever way Redis is away.
  patient: { maxRetriesPerRequest: null, enableOfflineQueue: true, commandTimeout: PATIENT_COMMAND_TIMEOUT_MS },
};

/**
 * Opens a Redis connection for one purpose: "worker" for BullMQ workers and subscribers,
 * "producer" for request paths, "patient" for writes a running job must not lose to a blip.
 */
export function createRedis(url: string, purpose: RedisPurpose, extra: RedisOptions = {}): Redis {
  const base = PURPOSES[purpose];
  return new Redis(url, {
    ...base,
    // Reconnect quickly but never stop trying: a Redis restart must not need a process restart.
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    lazyConnect: false,
    ...extra,
  });
}

/** Resolves with a PING answer or rejects after `timeoutMs`; never hangs. */
export async function pingWithin(redis: Redis, timeoutMs: number): Promise<void> {
  await withTimeout(redis.ping(), timeoutMs, "Redis did not answer PING");
}

/** Races a promise against a timer so callers on a request path get an answer in bounded time. */
export async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(invalid URL)";
  }
}

/** Deletes every key under `prefix:` (used by the demo to leave no trace). */
/** Escapes glob characters so a prefix is matched literally by SCAN's (or KEYS') MATCH. */
export function globLiteral(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

export async function deleteByPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${globLiteral(prefix)}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
