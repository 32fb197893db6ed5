// Apart from redis.ts, which benches and the chaos runner import outside vitest.
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { cleanPrefix, REDIS_URL, uniquePrefix } from "./redis.js";

/**
 * A connection for one test file under a fresh prefix, handed to `onOpen` before its tests and
 * closed, with the prefix's keys deleted, after them. Returns the prefix.
 */
export function redisForFile(label: string, onOpen: (redis: Redis) => void): string {
  const prefix = uniquePrefix(label);
  let redis: Redis | undefined;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    onOpen(redis);
  });
  afterAll(async () => {
    redis?.disconnect();
    await cleanPrefix(prefix);
  });
  return prefix;
}
