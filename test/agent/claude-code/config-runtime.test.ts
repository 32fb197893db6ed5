import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CLAUDE_AGENT_SDK_VERSION } from "../../../src/agent/claude-code/load-sdk.js";
import { loadConfig } from "../../../src/config.js";

describe("AGENT_RUNTIME", () => {
  it("defaults to the built-in runner", () => {
    expect(loadConfig({}).agent.runtime).toBe("anthropic");
  });

  it("accepts claude-code, trimmed", () => {
    expect(loadConfig({ AGENT_RUNTIME: " claude-code " }).agent.runtime).toBe("claude-code");
  });

  it("refuses anything else, naming the choices", () => {
    expect(() => loadConfig({ AGENT_RUNTIME: "codex" })).toThrow(/AGENT_RUNTIME: must be anthropic .* or claude-code, not "codex"/);
  });

  it("package.json pins the SDK exactly, as an optional dependency, at the version the loader names", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
    expect(pkg.optionalDependencies["@anthropic-ai/claude-agent-sdk"]).toBe(CLAUDE_AGENT_SDK_VERSION);
    expect(pkg.dependencies["@anthropic-ai/claude-agent-sdk"]).toBeUndefined();
  });
});
