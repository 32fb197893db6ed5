import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DRAIN_GRACE_MS } from "../../../src/agent/checks.js";
import { userPrompt } from "../../fakes/anthropic/claude-code.js";
import { type Harness, processesMatching, say, startHarness, tool } from "./harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("claude-code runner, in the bubblewrap jail, on the fake", () => {
  it("writes a file with Write, runs Bash, and ends with the report as finalText", async () => {
    h = await startHarness();
    const file = path.join(h.worktree, "hello.txt");
    h.fake.script([
      tool("Write", { file_path: file, content: "hello from claude code\n" }),
      tool("Bash", { command: "cat hello.txt && echo ran-in=$(hostname)", description: "show the file" }),
      say("## Summary\nWrote hello.txt.\n## Files\nhello.txt\n## Decisions\nnone\n## Open points\nnone"),
    ]);
    const out = await h.session.send("Write hello.txt");
    expect(out.stop).toBe("done");
    expect(out.finalText).toContain("Wrote hello.txt.");
    expect(await readFile(file, "utf8")).toBe("hello from claude code\n");
    expect(h.session.touchedFiles()).toEqual(["hello.txt"]);
    // The Bash result went back to the model: it ran inside the jail.
    const results = JSON.stringify(h.fake.requests.at(-1)?.body.messages);
    expect(results).toContain("ran-in=agent-sandbox");
    // Every turn booked, priced as the service prices it.
    expect(out.turns).toBe(3);
    expect(h.turns.map((t) => t.tools)).toEqual([["Write hello.txt"], ["Bash"], []]);
    expect(h.turns.reduce((a, t) => a + t.usage.output, 0)).toBe(h.fake.usages.reduce((a, u) => a + u.output_tokens, 0));
    expect(out.costUsd).toBeGreaterThan(0);
    // Offered exactly the explicit tool list, and every request came over loopback through the gateway.
    for (const r of h.fake.log) {
      expect(r.remoteAddress).toMatch(/^(127\.0\.0\.1|::ffff:127\.0\.0\.1)$/);
      expect(r.claudeCode).toBe(true);
    }
    expect(h.fake.log.filter((r) => r.tools.length).every((r) => r.tools.sort().join() === "Bash,Edit,Glob,Grep,Read,Write")).toBe(true);
  }, 30_000);
});

/** Polls until `check` holds (the positive signal a negative check waits for). */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const exists = (file: string) => readFile(file).then(() => true, () => false);
const lastMessages = (h: Harness) => JSON.stringify(h.fake.requests.at(-1)?.body.messages);

describe("claude-code runner: the service's rules", () => {
  it("the hook denies git push and tells the model the service pushes", async () => {
    h = await startHarness();
    h.fake.script([tool("Bash", { command: "git push origin HEAD:main", description: "push" }), say("ok")]);
    const out = await h.session.send("Push it");
    expect(out.stop).toBe("done");
    const results = lastMessages(h);
    expect(results).toContain("only the service pushes");
    expect(results).not.toContain("fatal:");
  }, 30_000);

  it("the API key never reaches the agent: its environment holds only the gateway's token", async () => {
    h = await startHarness();
    h.fake.script([tool("Bash", { command: "env; cat /proc/*/environ | tr '\\0' '\\n'", description: "env" }), say("ok")]);
    await h.session.send("Show the environment");
    const results = lastMessages(h);
    // Positive signal first: the output is there (the per-job token and the jail's HOME were read).
    expect(results).toContain("ANTHROPIC_API_KEY=awf-gw-");
    expect(results).toContain("CLAUDE_CONFIG_DIR=");
    expect(results).not.toContain(h.fake.apiKey);
  }, 30_000);

  it("model calls a command of the agent makes with the token are booked too", async () => {
    h = await startHarness({ limits: { maxTurns: 10, budgetUsd: 0.05 } });
    const curl = `curl -s "$ANTHROPIC_BASE_URL/v1/messages" -H "x-api-key: $ANTHROPIC_API_KEY" -H "anthropic-version: 2023-06-01" -H "content-type: application/json" -d '{"model":"claude-sonnet-4-6","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}'`;
    h.fake.script([
      tool("Bash", { command: curl, description: "call the model" }),
      { content: [{ type: "text" as const, text: "answer to the command's own call" }], output_tokens: 500 },
      say("done"),
    ]);
    await h.session.send("Call the model yourself");
    // Positive signal: the command's call reached the fake and its answer came back to the agent.
    expect(lastMessages(h)).toContain("answer to the command's own call");
    const booked = h.turns.reduce((a, t) => a + t.usage.output, 0);
    expect(booked).toBe(h.fake.usages.reduce((a, u) => a + u.output_tokens, 0));
    expect(h.turns.at(-1)?.tools).toEqual(["(model calls outside the agent loop)"]);
    expect(h.turns.at(-1)?.usage.output).toBe(500);
  }, 30_000);

  it("a stop ends the run within 2 s and leaves no process", async () => {
    h = await startHarness();
    const marker = path.join(h.worktree, "started");
    h.fake.script([tool("Bash", { command: "touch started && sleep 37.5", description: "wait" }), say("never")]);
    const run = h.session.send("Wait");
    await until(() => exists(marker), "the command to start");
    const t0 = Date.now();
    h.stop.abort();
    const out = await run;
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(out.stop).toBe("aborted");
    await until(() => processesMatching(h!.worktree).length === 0 && processesMatching("sleep 37.5").length === 0, "the jail to be gone", 1_000);
  }, 30_000);

  it("a drain ends the run as interrupted once the running command is done", async () => {
    h = await startHarness();
    const marker = path.join(h.worktree, "started");
    h.fake.script([tool("Bash", { command: "touch started && sleep 0.5 && echo finished > done.txt", description: "work" }), say("never said")]);
    const run = h.session.send("Work");
    await until(() => exists(marker), "the command to start");
    h.drain.abort();
    const out = await run;
    expect(out.stop).toBe("interrupted");
    expect(await readFile(path.join(h.worktree, "done.txt"), "utf8")).toBe("finished\n");
    expect(h.fake.pendingTurns()).toBe(1);
  }, 30_000);

  it("a drain kills a command that outlasts the grace, and hands over as interrupted", async () => {
    h = await startHarness();
    const marker = path.join(h.worktree, "started");
    h.fake.script([tool("Bash", { command: "touch started && sleep 41.5", description: "long" }), say("never said")]);
    const run = h.session.send("Work");
    await until(() => exists(marker), "the command to start");
    const t0 = Date.now();
    h.drain.abort();
    const out = await run;
    expect(out.stop).toBe("interrupted");
    expect(Date.now() - t0).toBeLessThan(DRAIN_GRACE_MS + 2_000);
    await until(() => processesMatching("sleep 41.5").length === 0, "the command to be gone", 1_000);
  }, 30_000);

  it("a second send is a fresh query: the task, the earlier report and the new message, no transcript", async () => {
    h = await startHarness();
    const file = path.join(h.worktree, "a.txt");
    h.fake.script([tool("Write", { file_path: file, content: "one\n" }), say("First report: wrote a.txt."), say("Second report.")]);
    expect((await h.session.send("TASK: write a.txt")).finalText).toBe("First report: wrote a.txt.");
    const out = await h.session.send("The checks failed: fix them.");
    expect(out.finalText).toBe("Second report.");
    const second = h.fake.requests.at(-1)!.body;
    const text = JSON.stringify(second.messages);
    expect(userPrompt(second)).toContain("TASK: write a.txt");
    expect(userPrompt(second)).toContain("First report: wrote a.txt.");
    expect(userPrompt(second)).toContain("Files you changed so far: a.txt");
    expect(userPrompt(second)).toContain("The checks failed: fix them.");
    expect(text).not.toContain("tool_result");
    expect(out.turns).toBe(3);
  }, 30_000);

  it("stops at the session's turn limit as max-turns", async () => {
    h = await startHarness({ limits: { maxTurns: 2, budgetUsd: 5 } });
    h.fake.script([tool("Bash", { command: "echo 1" }), tool("Bash", { command: "echo 2" }), tool("Bash", { command: "echo 3" }), say("done")]);
    const out = await h.session.send("Count");
    expect(out.stop).toBe("max-turns");
    expect(out.turns).toBe(2);
  }, 30_000);

  it("stops when its budget is spent, as budget", async () => {
    h = await startHarness({ limits: { maxTurns: 10, budgetUsd: 0.000001 } });
    h.fake.script([tool("Bash", { command: "echo 1" }), tool("Bash", { command: "echo 2" }), say("done")]);
    const out = await h.session.send("Count");
    expect(out.stop).toBe("budget");
    expect(out.turns).toBe(1);
  }, 30_000);

  it("an API error after Claude Code's retries fails the send with the API's words", async () => {
    h = await startHarness();
    h.fake.script(Array.from({ length: 20 }, () => ({ error: { status: 400, type: "invalid_request_error", message: "fake refusal for the test" } })));
    await expect(h.session.send("Anything")).rejects.toThrow(/Claude Code ended with an error: .*fake refusal for the test/);
    expect(h.fake.log.length).toBeGreaterThan(0);
  }, 30_000);

  it("runs without a sandbox too (AGENT_SANDBOX=none), through the same gateway", async () => {
    h = await startHarness({ sandbox: "none" });
    h.fake.script([tool("Bash", { command: "printenv ANTHROPIC_API_KEY ANTHROPIC_BASE_URL" }), say("ok")]);
    expect((await h.session.send("Env")).stop).toBe("done");
    const results = lastMessages(h);
    expect(results).toMatch(/awf-gw-[0-9a-f]+\\nhttp:\/\/127\.0\.0\.1:\d+/);
    expect(results).not.toContain(h.fake.apiKey);
  }, 30_000);
});
