import type { Redis } from "ioredis";
import { createQueues, type Queues } from "../jobs/queues.js";
import type { Config } from "./config.js";
import { createLogger, type Logger } from "./logger.js";
import { createRedis, redactUrl, withTimeout } from "./redis.js";

/** Everything the server and the workers share, built once per process. */
export interface Deps {
  readonly config: Config;
  readonly logger: Logger;
  /** Fail-fast connection for request paths and queue producers. */
  readonly redis: Redis;
  readonly queues: Queues;
  close(): Promise<void>;
}

/**
 * Builds the process's dependencies from config and waits until Redis answers (BullMQ checks the
 * server version as a queue opens, which a fail-fast connection cannot do before it is up).
 * `close()` releases everything in reverse order.
 */
export async function createDeps(
  config: Config,
  opts: { logger?: Logger; redisTimeoutMs?: number } = {},
): Promise<Deps> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel });
  const redis = createRedis(config.redisUrl, "producer");
  let lastRedisError = "";
  redis.on("error", (err: Error) => {
    // ioredis repeats the same error on every reconnect attempt; log each distinct one once.
    if (err.message !== lastRedisError) logger.warn({ err: err.message }, "redis connection error");
    lastRedisError = err.message;
  });
  redis.on("ready", () => {
    if (lastRedisError) logger.info("redis connection restored");
    lastRedisError = "";
  });
  try {
    if (redis.status !== "ready") {
      await withTimeout(
        new Promise<void>((resolve) => redis.once("ready", () => resolve())),
        opts.redisTimeoutMs ?? 10_000,
        `Redis at ${redactUrl(config.redisUrl)} did not answer: start one (e.g. \`redis-server\`) or set REDIS_URL; waited`,
      );
    }
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  const queues = createQueues(redis, config.redisPrefix);
  return {
    config,
    logger,
    redis,
    queues,
    async close() {
      await queues.close().catch((err: unknown) => logger.warn({ err }, "closing queues failed"));
      redis.disconnect();
    },
  };
}
