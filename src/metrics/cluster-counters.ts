import type { Redis } from "ioredis";
import type { Usage } from "../tasks/task.js";

// Agent turns happen in worker processes, scrapes hit the server: totals live in Redis so the
// server's /metrics reports the whole workforce.
const key = (prefix: string) => `${prefix}:metrics`;

/** Adds one model turn to the workforce-wide totals. */
export async function recordTurn(redis: Redis, prefix: string, usage: Usage, costUsd: number): Promise<void> {
  await redis
    .multi()
    .hincrby(key(prefix), "turns", 1)
    .hincrby(key(prefix), "tokens_input", usage.input)
    .hincrby(key(prefix), "tokens_output", usage.output)
    .hincrby(key(prefix), "tokens_cache_write", usage.cacheWrite)
    .hincrby(key(prefix), "tokens_cache_read", usage.cacheRead)
    .hincrbyfloat(key(prefix), "cost_usd", costUsd)
    .exec();
}

/** Adds one finished job (with its duration) to the workforce-wide totals. */
export async function recordJob(redis: Redis, prefix: string, queue: string, outcome: string, seconds: number): Promise<void> {
  await redis
    .multi()
    .hincrby(key(prefix), `jobs:${queue}:${outcome}`, 1)
    .hincrbyfloat(key(prefix), `job_seconds:${queue}:${outcome}`, seconds)
    .exec();
}

/** Reads every total. */
export async function readCounters(redis: Redis, prefix: string): Promise<Record<string, number>> {
  const raw = await redis.hgetall(key(prefix));
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
}
