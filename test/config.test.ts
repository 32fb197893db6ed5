import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

describe("loadConfig", () => {
  it("applies the documented defaults and freezes the result", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      host: "0.0.0.0",
      redisUrl: "redis://127.0.0.1:6379",
      agentLabel: "agent",
      logLevel: "info",
      github: { apiUrl: "https://api.github.com" },
      linear: { apiUrl: "https://api.linear.app/graphql" },
    });
    expect(c.dataDir).toMatch(/\/data$/);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.github)).toBe(true);
  });

  it("names every invalid and missing variable in one error, without printing secrets", () => {
    let error: unknown;
    try {
      loadConfig(
        {
          PORT: "eighty",
          REDIS_URL: "http://nope",
          LOG_LEVEL: "loud",
          GITHUB_API_URL: "not a url",
          GITHUB_TOKEN: "ghp_supersecret",
        },
        ["server", "worker"],
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of [
      "PORT",
      "REDIS_URL",
      "LOG_LEVEL",
      "GITHUB_API_URL",
      "GITHUB_WEBHOOK_SECRET",
      "LINEAR_WEBHOOK_SECRET",
      "LINEAR_API_KEY",
      "ANTHROPIC_API_KEY",
    ]) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain("ghp_supersecret");
    expect(message).not.toMatch(/GITHUB_TOKEN is required/);
    expect((error as ConfigError).problems).toHaveLength(8);
  });

  it("treats blank secrets as missing", () => {
    expect(() => loadConfig({ GITHUB_WEBHOOK_SECRET: "  ", LINEAR_WEBHOOK_SECRET: "x" }, ["server"])).toThrow(
      /GITHUB_WEBHOOK_SECRET is required to run the server/,
    );
  });
});
