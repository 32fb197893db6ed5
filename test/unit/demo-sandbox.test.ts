import { describe, expect, it } from "vitest";
import { demoSandbox } from "../../src/demo/run-demo.js";

describe("the offline demo's sandbox", () => {
  it("uses bubblewrap where it can start", async () => {
    expect(await demoSandbox("/usr/local/bin:/usr/bin:/bin")).toEqual({ mode: "bubblewrap", note: null });
  });

  it("runs its scripted agent unsandboxed where bubblewrap is missing, and says so first", async () => {
    const { mode, note } = await demoSandbox("/nonexistent-bin");
    expect(mode).toBe("none");
    expect(note).toMatch(/^Note: bubblewrap \(bwrap\) is not installed, so the demo's scripted agent runs without a sandbox \(AGENT_SANDBOX=none\)\. Real workers refuse to start without one/);
  });
});
