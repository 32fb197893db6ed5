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

  it("refuses an AGENT_MODEL it cannot price, naming the known models and AGENT_MODEL_PRICES", () => {
    const error = (() => {
      try {
        loadConfig({ AGENT_MODEL: "claude-opus-6" });
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const [problem] = (error as ConfigError).problems;
    expect(problem).toMatch(/^AGENT_MODEL: unknown model id claude-opus-6: known models are .*claude-sonnet-4-6/);
    expect(problem).toMatch(/claude-haiku-5-5/);
    expect(problem).toMatch(/set AGENT_MODEL_PRICES to price it/);
    // Its context window is unknown too, and said in the same error.
    expect((error as ConfigError).problems[1]).toMatch(/^AGENT_CONTEXT_WINDOW: required because AGENT_MODEL claude-opus-6/);

    expect(loadConfig({ AGENT_MODEL: "claude-haiku-4-5-20251001" }).agent.model).toBe("claude-haiku-4-5-20251001");
    const priced = loadConfig({
      AGENT_MODEL: "claude-opus-6",
      AGENT_MODEL_PRICES: '{"claude-opus-6":{"input":5,"output":25,"cacheWrite":6.25,"cacheRead":0.5}}',
      AGENT_CONTEXT_WINDOW: "400000",
    });
    expect(priced.agent.modelPrices["claude-opus-6"]).toEqual({
      rates: { input: 5, output: 25, cacheWrite: 6.25, cacheRead: 0.5 },
    });
    expect(Object.isFrozen(priced.agent.modelPrices)).toBe(true);
    expect(loadConfig({}).agent.modelPrices).toEqual({});
  });

  it("says what is wrong with AGENT_MODEL_PRICES and what it should look like", () => {
    const problemsOf = (value: string) => {
      try {
        loadConfig({ AGENT_MODEL_PRICES: value });
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problemsOf("{not json")).toEqual([
      expect.stringMatching(/^AGENT_MODEL_PRICES: not valid JSON .*\{"my-model":\{"input":3,"output":15/),
    ]);
    const problems = problemsOf('{"m":{"input":-1,"output":"15"},"n":{"input":1,"output":2,"extra":3},"o":[]}');
    expect(problems.join("\n")).toMatch(/AGENT_MODEL_PRICES: m\.input: .*>=0/);
    expect(problems.join("\n")).toMatch(/AGENT_MODEL_PRICES: m\.output: .*number/);
    expect(problems.join("\n")).toMatch(/AGENT_MODEL_PRICES: n: .*extra/);
    expect(problems.join("\n")).toMatch(/AGENT_MODEL_PRICES: o: /);
  });

  it("treats blank secrets as missing", () => {
    expect(() => loadConfig({ GITHUB_WEBHOOK_SECRET: "  ", LINEAR_WEBHOOK_SECRET: "x" }, ["server"])).toThrow(
      /GITHUB_WEBHOOK_SECRET is required to run the server/,
    );
  });

  it("runs agents in bubblewrap with the package registries by default, and names what is wrong with the sandbox settings", () => {
    const c = loadConfig({});
    expect(c.agent.sandbox).toBe("bubblewrap");
    expect(c.agent.allowedDomains).toContain("registry.npmjs.org");
    expect(c.agent.allowedDomains).toContain("pypi.org");
    expect(loadConfig({ AGENT_ALLOWED_DOMAINS: "" }).agent.allowedDomains).toEqual([]);
    expect(loadConfig({ AGENT_ALLOWED_DOMAINS: " Registry.Example.com, *.pkg.dev ,10.0.0.5:8443" }).agent.allowedDomains).toEqual(["registry.example.com", "*.pkg.dev", "10.0.0.5:8443"]);
    expect(() => loadConfig({ AGENT_SANDBOX: "auto" })).toThrow(/AGENT_SANDBOX: must be bubblewrap .* or none .*auto and unshare are gone/);
    expect(() => loadConfig({ AGENT_ALLOWED_DOMAINS: "https://evil.example/path" })).toThrow(/AGENT_ALLOWED_DOMAINS: each entry must be a host name/);
  });

  it("defaults to the current Sonnet model, with its 1M context window, a 0.6 threshold and a cache refresh every 270 s", () => {
    const { agent } = loadConfig({});
    expect(agent.model).toBe("claude-sonnet-5-5");
    expect(agent.contextWindow).toBe(1_000_000);
    expect(agent.contextThreshold).toBe(0.6);
    expect(agent.cacheRefreshMs).toBe(270_000);
    expect(loadConfig({ AGENT_MODEL: "claude-haiku-4-5-20251001" }).agent.contextWindow).toBe(200_000);
  });

  it("takes valid context and cache settings", () => {
    const { agent } = loadConfig({ AGENT_CONTEXT_THRESHOLD: "0.95", AGENT_CONTEXT_WINDOW: "150000", AGENT_CACHE_REFRESH_SECONDS: "0" });
    expect(agent).toMatchObject({ contextThreshold: 0.95, contextWindow: 150_000, cacheRefreshMs: 0 });
    expect(loadConfig({ AGENT_CONTEXT_THRESHOLD: "0.11", AGENT_CACHE_REFRESH_SECONDS: "3599" }).agent).toMatchObject({
      contextThreshold: 0.11,
      cacheRefreshMs: 3_599_000,
    });
    // A model priced through AGENT_MODEL_PRICES runs once its window is given.
    const custom = loadConfig({
      AGENT_MODEL: "gateway-model",
      AGENT_MODEL_PRICES: '{"gateway-model":{"input":1,"output":2}}',
      AGENT_CONTEXT_WINDOW: "64000",
    });
    expect(custom.agent.contextWindow).toBe(64_000);
  });

  it("names every bad context and cache setting in one error", () => {
    const problemsOf = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    for (const value of ["0.1", "0.96", "1", "-0.5", "lots"]) {
      expect(problemsOf({ AGENT_CONTEXT_THRESHOLD: value }), value).toEqual([
        expect.stringMatching(/^AGENT_CONTEXT_THRESHOLD: must be (above 0\.1 and at most 0\.95|a number)/),
      ]);
    }
    for (const value of ["999", "12.5", "many"]) {
      expect(problemsOf({ AGENT_CONTEXT_WINDOW: value }), value).toEqual([expect.stringMatching(/^AGENT_CONTEXT_WINDOW: must be/)]);
    }
    for (const value of ["-1", "3600", "2.5", "soon"]) {
      expect(problemsOf({ AGENT_CACHE_REFRESH_SECONDS: value }), value).toEqual([expect.stringMatching(/^AGENT_CACHE_REFRESH_SECONDS: must be/)]);
    }
    expect(problemsOf({ AGENT_CACHE_REFRESH_SECONDS: "3600" })[0]).toMatch(/the longest prompt cache lives an hour/);
    const all = problemsOf({ AGENT_CONTEXT_THRESHOLD: "2", AGENT_CONTEXT_WINDOW: "10", AGENT_CACHE_REFRESH_SECONDS: "-5" });
    expect(all.map((p) => p.split(":")[0])).toEqual(["AGENT_CONTEXT_THRESHOLD", "AGENT_CONTEXT_WINDOW", "AGENT_CACHE_REFRESH_SECONDS"]);
  });

  it("requires AGENT_CONTEXT_WINDOW for a custom-priced model with no known window, and says so", () => {
    const error = (() => {
      try {
        loadConfig({ AGENT_MODEL: "gateway-model", AGENT_MODEL_PRICES: '{"gateway-model":{"input":1,"output":2}}' });
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "AGENT_CONTEXT_WINDOW: required because AGENT_MODEL gateway-model has no known context window (it is not in the " +
        "built-in table); set it to the model's context window in tokens, e.g. AGENT_CONTEXT_WINDOW=200000",
    ]);
  });
});
