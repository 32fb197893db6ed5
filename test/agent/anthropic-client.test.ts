import type Anthropic from "@anthropic-ai/sdk";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createAnthropic } from "../../src/agent/anthropic-client.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic/index.js";

let fake: AnthropicFake;

beforeEach(async () => {
  fake = await startAnthropicFake();
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await fake.close();
});

const ask = (client: Anthropic, maxTokens = 64) =>
  client.messages.create({
    model: "claude-sonnet-4-6",
    max_tokens: maxTokens,
    messages: [{ role: "user", content: "Hi" }],
  });

describe("createAnthropic", () => {
  it("takes nothing from ANTHROPIC_* environment variables; config.ts decides", async () => {
    vi.stubEnv("ANTHROPIC_AUTH_TOKEN", "env-token");
    vi.stubEnv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/env");
    vi.stubEnv("ANTHROPIC_LOG", "debug");
    vi.stubEnv("ANTHROPIC_WEBHOOK_SIGNING_KEY", "env-webhook-key");

    const client = createAnthropic({ apiKey: fake.apiKey, baseUrl: fake.url, maxRetries: 0 });
    expect(client.authToken).toBeNull();
    expect(client.webhookKey).toBeNull();
    expect(client.logLevel).toBe("warn");
    await ask(client);
    const headers = fake.requests[0]?.headers ?? {};
    expect(headers.authorization).toBe(`Bearer ${fake.apiKey}`);

    // Without a configured base URL the client goes to Anthropic, not to ANTHROPIC_BASE_URL.
    expect(createAnthropic({ apiKey: "k" }).baseURL).toBe("https://api.anthropic.com");
  });
});

describe("AGENT_MAX_TOKENS", () => {
  it("may go to the largest output a model allows, now that the agent streams", () => {
    expect(loadConfig({ AGENT_MAX_TOKENS: "64000" }).agent.maxTokens).toBe(64_000);
    let error: unknown;
    try {
      loadConfig({ AGENT_MAX_TOKENS: "128001" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/AGENT_MAX_TOKENS: must be at most 128000/);
  });
});
