import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { deleteByPrefix, globLiteral } from "../../src/redis.js";

export const REDIS_URL = "redis://127.0.0.1:6379";

/** A prefix no other test shares, so test files can run side by side on one Redis. */
export function uniquePrefix(label = "t"): string {
  return `awf-test-${label}-${randomUUID().slice(0, 8)}`;
}

/** Deletes every key under `prefix` (queues, dedupe markers, task records). */
export async function cleanPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  await deleteByPrefix(url, prefix);
}

/**
 * Lists keys under `prefix` that a request could have written (jobs, delivery markers), leaving
 * out the `<queue>:meta` hash BullMQ writes when a queue opens.
 */
export async function keysUnder(prefix: string, url = REDIS_URL): Promise<string[]> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return (await redis.keys(`${globLiteral(prefix)}:*`)).filter((k) => !k.endsWith(":meta"));
  } finally {
    redis.disconnect();
  }
}
