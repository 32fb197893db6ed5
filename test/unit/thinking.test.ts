import { describe, expect, it } from "vitest";
import { requestThinking, ThinkingSettingError } from "../../src/agent/thinking.js";

const refused = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ThinkingSettingError);
    return (err as Error).message;
  }
  throw new Error("expected a ThinkingSettingError");
};

describe("requestThinking", () => {
  it("sends nothing when the repository leaves both to the model", () => {
    expect(requestThinking({}, "claude-sonnet-5-5")).toEqual({});
    expect(requestThinking({ thinking: undefined, effort: undefined }, "claude-3-haiku")).toEqual({});
  });

  it("maps each setting to the SDK's ThinkingConfigParam and OutputConfig", () => {
    expect(requestThinking({ thinking: "adaptive", effort: "xhigh" }, "claude-sonnet-5-5")).toEqual({
      thinking: { type: "adaptive" },
      output_config: { effort: "xhigh" },
    });
    expect(requestThinking({ thinking: "between-tools" }, "claude-sonnet-5-5")).toEqual({ thinking: { type: "between_tools" } });
    expect(requestThinking({ thinking: "off" }, "claude-sonnet-5")).toEqual({ thinking: { type: "disabled" } });
    expect(requestThinking({ thinking: 8000 }, "claude-sonnet-4-5", 16_000)).toEqual({ thinking: { type: "enabled", budget_tokens: 8000 } });
    expect(requestThinking({ effort: "low" }, "claude-opus-4-5-20251101")).toEqual({ output_config: { effort: "low" } });
  });

  it("refuses a manual budget on a model that only thinks adaptively, naming what it accepts", () => {
    expect(refused(() => requestThinking({ thinking: 8000 }, "claude-sonnet-5-5"))).toBe(
      "claude-sonnet-5-5 does not accept a thinking budget (8000 tokens); it accepts adaptive, between-tools (or leave thinking unset for its default)",
    );
    expect(refused(() => requestThinking({ thinking: 4096 }, "claude-opus-4-7"))).toMatch(/accepts adaptive, off/);
  });

  it("refuses off where thinking is always on, and between-tools where it is not offered", () => {
    expect(refused(() => requestThinking({ thinking: "off" }, "claude-fable-5-2"))).toMatch(/claude-fable-5-2 does not accept thinking: off; it accepts adaptive/);
    expect(refused(() => requestThinking({ thinking: "off" }, "claude-sonnet-5-5"))).toMatch(/accepts adaptive, between-tools/);
    expect(refused(() => requestThinking({ thinking: "between-tools" }, "claude-opus-5"))).toMatch(/does not accept thinking: between-tools/);
    expect(refused(() => requestThinking({ thinking: "adaptive" }, "claude-haiku-4-5"))).toMatch(/accepts a budget of thinking tokens, off/);
  });

  it("refuses effort levels a model lacks, and effort on models without it", () => {
    expect(refused(() => requestThinking({ effort: "xhigh" }, "claude-sonnet-4-6"))).toBe(
      "claude-sonnet-4-6 does not accept effort xhigh; it accepts low, medium, high, max",
    );
    expect(refused(() => requestThinking({ effort: "high" }, "claude-haiku-4-5"))).toMatch(/takes no effort parameter/);
  });

  it("lets off through on Opus 5 only up to effort high", () => {
    expect(requestThinking({ thinking: "off", effort: "high" }, "claude-opus-5")).toEqual({ thinking: { type: "disabled" }, output_config: { effort: "high" } });
    expect(refused(() => requestThinking({ thinking: "off", effort: "max" }, "claude-opus-5"))).toMatch(/only up to effort high, not max/);
  });

  it("asks nothing of a model that cannot think when told off, but refuses the other modes there", () => {
    expect(requestThinking({ thinking: "off" }, "claude-3-5-haiku")).toEqual({});
    expect(refused(() => requestThinking({ thinking: "adaptive" }, "claude-3-5-haiku"))).toMatch(/it cannot think; leave thinking unset/);
  });

  it("checks a budget against the API's floor and AGENT_MAX_TOKENS", () => {
    expect(refused(() => requestThinking({ thinking: 512 }, "claude-sonnet-4-5"))).toMatch(/at least 1024 tokens, not 512/);
    expect(refused(() => requestThinking({ thinking: 16_000 }, "claude-sonnet-4-5", 16_000))).toMatch(/less than AGENT_MAX_TOKENS \(16000\)/);
  });

  it("passes settings through for a model the table does not know: the API decides there", () => {
    expect(requestThinking({ thinking: 2048, effort: "max" }, "my-gateway-model")).toEqual({
      thinking: { type: "enabled", budget_tokens: 2048 },
      output_config: { effort: "max" },
    });
  });
});
