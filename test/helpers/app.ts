import type { FastifyInstance } from "fastify";
import { buildApp } from "../../src/app.js";
import { createDeps, type Deps } from "../../src/deps.js";
import type { Logger } from "../../src/logger.js";
import { testConfig } from "./config.js";
import { cleanPrefix, REDIS_URL, uniquePrefix } from "./redis.js";

export interface TestApp {
  app: FastifyInstance;
  deps: Deps;
  prefix: string;
  close(): Promise<void>;
}

/** buildApp over real Redis under a fresh prefix; close() also deletes every key it wrote. */
export async function startTestApp(env: Record<string, string> = {}, opts: { logger?: Logger } = {}): Promise<TestApp> {
  // A caller's own prefix is the one to clean up afterwards.
  const prefix = env.REDIS_PREFIX ?? uniquePrefix();
  const redisUrl = env.REDIS_URL ?? REDIS_URL;
  const deps = await createDeps(testConfig({ ...env, REDIS_PREFIX: prefix }), opts);
  const app = await buildApp(deps);
  await app.ready();
  return {
    app,
    deps,
    prefix,
    async close() {
      await app.close();
      await deps.close();
      await cleanPrefix(prefix, redisUrl).catch(() => undefined);
    },
  };
}
