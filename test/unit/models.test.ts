import { describe, expect, it } from "vitest";
import { baseModelId, EFFORTS, modelLimits, thinkingSupport } from "../../src/agent/models.js";
import { KNOWN_MODELS } from "../../src/agent/pricing.js";

describe("model limits", () => {
  it("knows the context window, output limit and thinking support of every model the price table knows", () => {
    for (const model of KNOWN_MODELS) {
      const limits = modelLimits(model);
      expect(limits, model).toBeDefined();
      expect(limits!.contextWindow).toBeGreaterThanOrEqual(200_000);
      expect(limits!.maxOutput).toBeGreaterThanOrEqual(4096);
      expect(limits!.maxOutput).toBeLessThanOrEqual(128_000);
      const support = thinkingSupport(model);
      expect(support, model).toBeDefined();
      for (const effort of support!.efforts) expect(EFFORTS).toContain(effort);
    }
  });

  it("has the figures of Anthropic's model pages", () => {
    expect(modelLimits("claude-sonnet-5-5")).toEqual({ contextWindow: 1_000_000, maxOutput: 128_000 });
    expect(modelLimits("claude-fable-5-2")).toEqual({ contextWindow: 1_000_000, maxOutput: 128_000 });
    expect(modelLimits("claude-haiku-5-5")).toEqual({ contextWindow: 1_000_000, maxOutput: 128_000 });
    expect(modelLimits("claude-opus-4-6")).toEqual({ contextWindow: 1_000_000, maxOutput: 128_000 });
    expect(modelLimits("claude-haiku-4-5")).toEqual({ contextWindow: 200_000, maxOutput: 64_000 });
    expect(modelLimits("claude-sonnet-4-5")).toEqual({ contextWindow: 200_000, maxOutput: 64_000 });
    expect(modelLimits("claude-opus-4-1")).toEqual({ contextWindow: 200_000, maxOutput: 32_000 });
    expect(modelLimits("claude-3-haiku")).toEqual({ contextWindow: 200_000, maxOutput: 4096 });
  });

  it("resolves dated snapshots and -latest as pricing does, and nothing else", () => {
    expect(baseModelId("claude-haiku-4-5-20251001")).toBe("claude-haiku-4-5");
    expect(baseModelId("claude-3-7-sonnet-latest")).toBe("claude-3-7-sonnet");
    expect(modelLimits("claude-haiku-4-5-20251001")).toEqual(modelLimits("claude-haiku-4-5"));
    expect(modelLimits("claude-3-5-sonnet-latest")).toEqual({ contextWindow: 200_000, maxOutput: 8192 });
    expect(thinkingSupport("claude-opus-4-5-20251101")).toEqual(thinkingSupport("claude-opus-4-5"));
    for (const model of ["claude-opus-6", "claude-sonnet-4-6-preview", "my-gateway-model"]) {
      expect(modelLimits(model)).toBeUndefined();
      expect(thinkingSupport(model)).toBeUndefined();
    }
  });

  it("lets overrides win, and completes an unknown model only when they give both limits", () => {
    expect(modelLimits("claude-sonnet-5-5", { contextWindow: 50_000 })).toEqual({ contextWindow: 50_000, maxOutput: 128_000 });
    expect(modelLimits("my-gateway-model", { contextWindow: 64_000 })).toBeUndefined();
    expect(modelLimits("my-gateway-model", { contextWindow: 64_000, maxOutput: 8_000 })).toEqual({ contextWindow: 64_000, maxOutput: 8_000 });
  });

  it("says which thinking modes and effort levels each generation accepts", () => {
    expect(thinkingSupport("claude-fable-5-1")?.modes).toEqual(["adaptive"]);
    expect(thinkingSupport("claude-opus-5-5")?.modes).toEqual(["adaptive"]);
    expect(thinkingSupport("claude-sonnet-5-5")?.modes).toEqual(["adaptive", "between_tools"]);
    expect(thinkingSupport("claude-sonnet-4-6")).toEqual({ modes: ["adaptive", "enabled", "disabled"], efforts: ["low", "medium", "high", "max"] });
    expect(thinkingSupport("claude-opus-4-5")?.efforts).toEqual(["low", "medium", "high"]);
    expect(thinkingSupport("claude-haiku-4-5")).toEqual({ modes: ["enabled", "disabled"], efforts: [] });
    expect(thinkingSupport("claude-3-5-haiku")).toEqual({ modes: [], efforts: [] });
    // No 5.x model takes a manual budget (the filter must find all eleven).
    expect(KNOWN_MODELS.filter((m) => /^claude-(fable|mythos|opus|sonnet|haiku)-5(-\d)?$/.test(m))).toHaveLength(11);
    for (const model of KNOWN_MODELS.filter((m) => /^claude-(fable|mythos|opus|sonnet|haiku)-5(-\d)?$/.test(m))) expect(thinkingSupport(model)?.modes, model).not.toContain("enabled");
  });
});
