import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "./helpers/world.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("GET /metrics", () => {
  it("reports webhooks by outcome, queue depth, agent turns, tokens, cost and finished jobs", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([
      { content: [{ type: "tool_use", name: "str_replace_based_edit_tool", input: { command: "create", path: "greet.txt", file_text: "hello, world\n" } }] },
      { content: [{ type: "text", text: "## Summary\nDone." }] },
    ]);
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    await w.app.inject({ method: "POST", url: "/webhooks/github", payload: "{}", headers: { "content-type": "application/json", "x-github-delivery": randomUUID() } });
    await w.waitFor(async () => (await w.app.inject({ url: "/metrics" })).body.includes('queue="implement",outcome="completed"'), "the job metrics");
    const text = (await w.app.inject({ url: "/metrics" })).body;
    expect(text).toContain('agent_workforce_webhooks_total{source="linear",outcome="accepted"} 1');
    expect(text).toContain('agent_workforce_webhooks_total{source="github",outcome="unauthorized"} 1');
    expect(text).toMatch(/agent_workforce_queue_jobs\{queue="implement",state="completed"\} 1/);
    expect(text).toContain("agent_workforce_agent_turns_total 2");
    const output = w.anthropic.usages.reduce((a, u) => a + u.output_tokens, 0);
    expect(text).toContain(`agent_workforce_agent_tokens_total{kind="output"} ${output}`);
    const cost = Number(/agent_workforce_agent_cost_usd_total ([\d.e-]+)/.exec(text)?.[1]);
    expect(cost).toBeCloseTo((await w.deps.tasks.get(issue.id))?.costUsd ?? -1, 8);
    expect(text).toMatch(/agent_workforce_jobs_total\{queue="implement",outcome="completed"\} 1/);
    expect(text).toContain("agent_workforce_redis_errors_total 0");
  });
});
