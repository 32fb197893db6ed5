import type { Redis } from "ioredis";

/** The eviction policy Redis reports, via CONFIG GET or, where CONFIG is disabled, INFO memory. */
export async function evictionPolicy(redis: Redis): Promise<string | null> {
  try {
    const reply = (await redis.config("GET", "maxmemory-policy")) as string[];
    if (reply[1]) return reply[1];
  } catch {
    // Managed Redis services often rename or disable CONFIG; INFO still says it.
  }
  const info = await redis.info("memory");
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? null;
}

/**
 * BullMQ loses jobs silently if Redis evicts keys under memory pressure, so the service refuses
 * to start unless eviction is off.
 */
export async function assertNoEviction(redis: Redis, where: string): Promise<void> {
  const policy = await evictionPolicy(redis);
  if (policy === null || policy === "noeviction") return;
  throw new Error(
    `Redis at ${where} uses maxmemory-policy "${policy}", which can evict queued jobs. ` +
      "Set it to noeviction (redis-server --maxmemory-policy noeviction, or CONFIG SET maxmemory-policy noeviction, " +
      "or maxmemory-policy noeviction in redis.conf) and start again.",
  );
}
