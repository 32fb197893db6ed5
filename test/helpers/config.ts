import { type Config, ConfigError, loadConfig } from "../../src/config.js";
import { REDIS_URL } from "./redis.js";

export const GITHUB_SECRET = "gh-test-secret";
export const LINEAR_SECRET = "lin-test-secret";

/** A valid config for tests; every remote points wherever the caller says. */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    REDIS_URL,
    GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
    LINEAR_WEBHOOK_SECRET: LINEAR_SECRET,
    LOG_LEVEL: "silent",
    DATA_DIR: "./data/test",
    ...env,
  });
}

/** The problems `loadConfig` names for `env`, or none. */
export function problems(env: Record<string, string>, roles: Parameters<typeof loadConfig>[1] = []): string[] {
  try {
    loadConfig(env, roles);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}
