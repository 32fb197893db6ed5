import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { runDemo } from "../../src/demo/run-demo.js";

describe("offline demo", () => {
  it("plays the three stories (ready, clarify, split with approval) through the real service and cleans up after itself", { timeout: 180_000 }, async () => {
    const lines: string[] = [];
    const demo = await runDemo({ base: loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" }), say: (l) => lines.push(l), timeoutMs: 150_000 });
    try {
      const text = lines.join("\n");
      const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
      // Every Linear operation the service sent was one the stand-in knows.
      expect(lines.filter((l) => l.startsWith("!!")), text).toEqual([]);
      // ready: a PR, a review, the revision answered in its thread, merged, Done.
      expect(text, text).toMatch(/\[DEMO-1\] triage \(claude-haiku-4-5, \$[\d.]+\): ready, 3 acceptance criteria/);
      expect(text).toMatch(/\[DEMO-1\] the agent edited greet\.js, ran `node test\.js` and opened PR #\d+ .*Linear: "In Review"/);
      expect(text).toMatch(/\[DEMO-1\] .*answered in the thread \(1 reply\)/);
      expect(text).toMatch(/DEMO-1 is "Done"/);
      // clarify: the question waits under "Needs you", the demo's reply resumes it, a PR follows.
      expect(text).toMatch(/\[DEMO-2\] triage .*: clarify, .*asks .* in a Linear comment/);
      expect(text).toMatch(/\[dashboard\] Needs you: .*DEMO-2 \(question\)/);
      expect(text).toMatch(/\[DEMO-2\] re-triaged ready with the answer in the spec: PR #\d+ adds farewell\.js/);
      expect(text).toMatch(/DEMO-2 is "Done"/);
      // split: a plan approved in Linear, three sub-issues, the third after both of the others, rolled up into a parent that is Done.
      expect(text).toMatch(/\[DEMO-3\] triage .*: split, .*proposes 3 sub-issues in a Linear comment and waits for approval/);
      expect(text).toMatch(/\[dashboard\] Needs you: .*DEMO-3 \(plan\)/);
      expect(text).toMatch(/\[DEMO-3\] created in Linear under DEMO-3, approved by Ada Lovelace/);
      expect(text).toMatch(/DEMO-6 "Pick the greeting's language", blocked by DEMO-4 and DEMO-5/);
      expect(text).toMatch(/3 sub-issues of DEMO-3 and 2 "blocks" relations/);
      const dependent = at(/\[DEMO-6\] sub-issue PR #\d+/);
      expect(dependent).toBeGreaterThan(at(/\[DEMO-4\] sub-issue PR #\d+/));
      expect(dependent).toBeGreaterThan(at(/\[DEMO-5\] sub-issue PR #\d+/));
      expect(lines[dependent]).toMatch(/received \d+ tokens from others, \d+ of them its blockers' hand-off notes/);
      expect(text).toMatch(/\[DEMO-3\] every sub-issue merged → the parent is "Done" in Linear/);
      // The dashboard: several agents at once, and the state-transfer share.
      expect(text).toMatch(/\[dashboard\] [3-9] agents at work/);
      expect(text).toMatch(/\[dashboard\] state transfer: [1-9]\d* of \d+ input tokens \([\d.]+%\)/);
      // The dashboard's server is up while the demo runs, with the state-transfer figure and the tree.
      const health = await fetch(`${demo.url}/healthz`);
      expect(health.status).toBe(200);
      const page = await (await fetch(`${demo.url}/`)).text();
      expect(page).toMatch(/State transfer/);
      expect(page).toMatch(/Needs you/);
      expect(page).toMatch(/DEMO-6/);
    } finally {
      await demo.close();
    }
    const redis = new Redis();
    const left = await redis.keys(`${demo.prefix}:*`);
    redis.disconnect();
    expect(left.filter((k) => !k.endsWith(":meta"))).toEqual([]);
  });
});
