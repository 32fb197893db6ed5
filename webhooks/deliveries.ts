import type { Redis } from "ioredis";

/** GitHub lets operators redeliver for 3 days (7 on GHES); keep markers a little longer. */
export const DELIVERY_TTL_SECONDS = 8 * 24 * 3600;

/** Result of claiming a delivery: the first claim wins; later ones see the job it produced. */
export type Claim = { first: true } | { first: false; jobId: string };

const key = (prefix: string, source: string, id: string) => `${prefix}:delivery:${source}:${id}`;

/**
 * Atomically marks a delivery as seen, storing the job id it is about to produce; a concurrent or
 * later duplicate gets `first: false` and that job id, in one round trip.
 */
export async function claimDelivery(
  redis: Redis,
  prefix: string,
  source: string,
  id: string,
  jobId: string,
): Promise<Claim> {
  const previous = await redis.set(key(prefix, source, id), jobId, "EX", DELIVERY_TTL_SECONDS, "NX", "GET");
  return previous === null ? { first: true } : { first: false, jobId: previous };
}

/** Records the job a delivery was merged into, so duplicates answer with the job that runs. */
export async function recordDelivery(
  redis: Redis,
  prefix: string,
  source: string,
  id: string,
  jobId: string,
) {
  await redis.set(key(prefix, source, id), jobId, "EX", DELIVERY_TTL_SECONDS);
}

/** Forgets a claim whose enqueue failed, so the sender's retry is not mistaken for a duplicate. */
export async function releaseDelivery(redis: Redis, prefix: string, source: string, id: string) {
  await redis.del(key(prefix, source, id));
}
