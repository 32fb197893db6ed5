import { describe, expect, it } from "vitest";
import { costOf, KNOWN_MODELS, Pricing } from "../../src/agent/pricing.js";
import { testConfig } from "../helpers/config.js";

const M = 1_000_000;
const usage = (input: number, output: number, cacheWrite = 0, cacheRead = 0) => ({
  input,
  output,
  cacheWrite,
  cacheRead,
});

describe("pricing", () => {
  it("prices every kind of token at the model's rate", () => {
    // Sonnet 4.6: $3 in, $15 out, $3.75 cache write (5 minutes), $0.30 cache read per million.
    expect(costOf("claude-sonnet-4-6", usage(M, M, M, M))).toBeCloseTo(3 + 15 + 3.75 + 0.3, 10);
    expect(costOf("claude-opus-4-7", usage(2_000, 1_000, 0, 10_000))).toBeCloseTo(
      (2_000 * 5 + 1_000 * 25 + 10_000 * 0.5) / M,
      12,
    );
    expect(costOf("claude-haiku-4-5-20251001", usage(M, 0))).toBe(1);
    expect(costOf("claude-opus-4-1", usage(0, M))).toBe(75);
    expect(costOf("claude-opus-4-20250514", usage(0, M))).toBe(75);
    expect(costOf("claude-opus-5-5", usage(0, 0, M, M))).toBeCloseTo(5 + 0.2, 10);
    expect(costOf("claude-fable-5-2", usage(M, M, 0, M))).toBeCloseTo(8 + 40 + 0.2, 10);
  });

  it("prices a Haiku 5.5 request whose prompt is over 100,000 tokens at the long-prompt rates, output included", () => {
    // Up to 100k prompt tokens: $0.10 in, $0.50 out, $0.125 cache write, $0.01 cache read.
    const short = usage(40_000, 10_000, 30_000, 30_000);
    expect(costOf("claude-haiku-5-5", short)).toBeCloseTo(
      (40_000 * 0.1 + 10_000 * 0.5 + 30_000 * 0.125 + 30_000 * 0.01) / M,
      12,
    );
    // One token more, counting cache writes and reads as prompt: every token at five times the rate.
    const long = usage(40_001, 10_000, 30_000, 30_000);
    expect(costOf("claude-haiku-5-5", long)).toBeCloseTo(
      (40_001 * 0.5 + 10_000 * 2.5 + 30_000 * 0.625 + 30_000 * 0.05) / M,
      12,
    );
  });

  it("prices a Sonnet 4.5 request over 200,000 input tokens at the long-context rates", () => {
    expect(costOf("claude-sonnet-4-5", usage(200_000, M))).toBe(0.6 + 15);
    expect(costOf("claude-sonnet-4-5-20250929", usage(150_000, M, 0, 50_001))).toBeCloseTo(
      (150_000 * 6 + M * 22.5 + 50_001 * 0.6) / M,
      12,
    );
    // Sonnet 4.6 keeps one rate for its whole window.
    expect(costOf("claude-sonnet-4-6", usage(900_000, 0))).toBeCloseTo(2.7, 12);
  });

  it("refuses to price a model it does not know instead of guessing Sonnet's rates", () => {
    for (const model of ["some-future-model", "claude-opus-6", "claude-sonnet-4-6-preview", "claude-opus-4-1x"]) {
      expect(() => costOf(model, usage(1, 1))).toThrow(/no prices for model/);
      expect(new Pricing().pricesOf(model)).toBeUndefined();
    }
  });

  it("lists every model of the table, each priced with input, output and both cache rates", () => {
    expect(KNOWN_MODELS).toContain("claude-haiku-5-5");
    expect(KNOWN_MODELS).toContain("claude-sonnet-4-6");
    expect(new Set(KNOWN_MODELS).size).toBe(KNOWN_MODELS.length);
    for (const model of KNOWN_MODELS) {
      const prices = new Pricing().pricesOf(model);
      expect(prices?.rates.input).toBeGreaterThan(0);
      expect(prices?.rates.output).toBeGreaterThan(prices?.rates.input ?? Infinity);
      expect(prices?.rates.cacheWrite).toBeGreaterThan(prices?.rates.cacheRead ?? Infinity);
    }
  });

  it("prices configured models from AGENT_MODEL_PRICES, which also overrides the table", () => {
    const config = testConfig({
      AGENT_MODEL: "my-model",
      // A model the built-in tables do not know needs its context window too.
      AGENT_CONTEXT_WINDOW: "200000",
      AGENT_MODEL_PRICES: JSON.stringify({
        "my-model": { input: 2, output: 8, cacheWrite: 2.5, cacheRead: 0.2 },
        "claude-sonnet-4-6": { input: 1, output: 5 },
        tiered: { input: 1, output: 2, longPrompt: { aboveTokens: 1000, input: 10, output: 20 } },
      }),
    });
    const pricing = new Pricing(config.agent.modelPrices);
    expect(pricing.costOf("my-model", usage(M, M, M, M))).toBeCloseTo(2 + 8 + 2.5 + 0.2, 10);
    // Cache rates left out follow Anthropic's multipliers: 1.25× input to write, 0.1× to read.
    expect(pricing.costOf("claude-sonnet-4-6", usage(0, 0, M, M))).toBeCloseTo(1.25 + 0.1, 10);
    expect(pricing.costOf("tiered", usage(1000, 1000))).toBeCloseTo((1000 * 1 + 1000 * 2) / M, 12);
    expect(pricing.costOf("tiered", usage(1001, 1000))).toBeCloseTo((1001 * 10 + 1000 * 20) / M, 12);
    // The built-in table alone still refuses the configured model.
    expect(() => costOf("my-model", usage(1, 1))).toThrow(/AGENT_MODEL_PRICES/);
  });
});
