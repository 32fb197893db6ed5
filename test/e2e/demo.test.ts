import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { runDemo } from "../../src/demo/run-demo.js";

describe("offline demo", () => {
  it("plays the whole story through the real service and cleans up after itself", async () => {
    const lines: string[] = [];
    const demo = await runDemo({ base: loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" }), say: (l) => lines.push(l), timeoutMs: 60_000 });
    try {
      const text = lines.join("\n");
      expect(text, text).toMatch(/opened PR #1/);
      expect(text, text).toMatch(/Linear: "In Review"/);
      expect(text).toMatch(/answered in the thread \(1 reply\)/);
      expect(text).toMatch(/DEMO-1 is "Done"/);
      // The dashboard's server is up while the demo runs.
      const health = await fetch(`${demo.url}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      await demo.close();
    }
    const redis = new Redis();
    const left = await redis.keys(`${demo.prefix}:*`);
    redis.disconnect();
    expect(left.filter((k) => !k.endsWith(":meta"))).toEqual([]);
  });
});
