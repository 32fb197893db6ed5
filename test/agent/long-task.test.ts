import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAnthropic } from "../../src/agent/anthropic-client.js";
import { AnthropicRunner, type AnthropicRunnerOptions } from "../../src/agent/anthropic-runner.js";
import { runWithChecks } from "../../src/agent/run-with-checks.js";
import type { AgentSession, TurnReport } from "../../src/agent/runner.js";
import type { ThinkingSettings } from "../../src/agent/thinking.js";
import { type AnthropicFake, type AnthropicFakeOptions, startAnthropicFake } from "../fakes/anthropic/index.js";
import { totalTokens } from "../fakes/anthropic/cache.js";
import { bash, say } from "../helpers/turns.js";
import { plainJail } from "../helpers/jail.js";

// Long tasks: the context manager keeps each request under the threshold (clearing, then
// compaction), the fake refuses anything over its window as the API does, and the prompt cache
// is kept warm while checks run.
const PATH = "/usr/local/bin:/usr/bin:/bin";
let fake: AnthropicFake;
let tmp: string;
let session: AgentSession | undefined;
const reports: TurnReport[] = [];

beforeEach(async () => {
  tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), "awf-long-")));
  reports.length = 0;
});
afterEach(async () => {
  await session?.close();
  session = undefined;
  await fake?.close();
  await rm(tmp, { recursive: true, force: true });
});

/** Request bodies are arbitrary JSON here. */
type Json = any;
const lastUserText = (req: Json): string => JSON.stringify(req.messages.at(-1)?.content ?? "");
const isCompaction = (req: Json) => lastUserText(req).includes("[context] This conversation");

async function start(
  fakeOpts: AnthropicFakeOptions,
  runner: Partial<AnthropicRunnerOptions>,
  system = "You are a coding agent.",
  thinking?: ThinkingSettings,
) {
  fake = await startAnthropicFake({ minCacheableTokens: 256, ...fakeOpts });
  const r = new AnthropicRunner({
    client: createAnthropic({ apiKey: fake.apiKey, baseUrl: fake.url, maxRetries: 0 }),
    model: "claude-sonnet-4-6",
    maxTokens: 1024,
    commandEnv: { PATH },
    commandTimeoutMs: 10_000,
    ...runner,
  });
  session = r.startSession({
    worktree: tmp,
    system,
    jail: plainJail(tmp),
    limits: { maxTurns: 200, budgetUsd: 50 },
    signal: new AbortController().signal,
    ...(thinking ? { thinking } : {}),
    onTurn: (t) => {
      reports.push(t);
    },
  });
  return session;
}

/** `n` turns that each print `chars` characters. */
const printing = (n: number, chars: number) => Array.from({ length: n }, (_, i) => bash(`head -c ${chars} /dev/zero | tr '\\0' ${"abcdefghij"[i % 10]}`));

describe("context management against a fake with a small context window", () => {
  it("completes a task whose tool output is several times the window, clearing old results in batches", async () => {
    const s = await start(
      { contextWindow: 8_000, intercept: (req) => (isCompaction(req) ? say("## Summary\nsome done") : undefined) },
      { contextWindow: 8_000, contextThreshold: 0.6 },
    );
    fake.script([...printing(25, 2_400), say("All done.")]);
    const outcome = await s.send("Print a lot.");

    expect(outcome.stop).toBe("done");
    expect(outcome.turns).toBe(26);
    // 25 × 2,400 characters is about 15,000 tokens of tool output: twice the window.
    expect(fake.requests.every((r) => totalTokens(r.body) <= 8_000 * 0.6 * 1.05)).toBe(true);
    const clearings = outcome.context?.clearings ?? 0;
    // In batches: each clearing frees down to half the limit, so a handful suffice.
    expect(clearings).toBeGreaterThanOrEqual(2);
    expect(clearings).toBeLessThanOrEqual(10);
    const last = fake.requests.at(-1)?.body;
    expect(JSON.stringify(last)).toContain("[cleared to save context");
  });

  it("compacts into the model's progress note when clearing cannot free enough, and goes on from it", async () => {
    const s = await start(
      {
        contextWindow: 8_000,
        intercept: (req) => (isCompaction(req) ? say("## Summary\nNOTE-7Q: steps 1 to n done.\n## Open points\nfinish") : undefined),
      },
      { contextWindow: 8_000, contextThreshold: 0.6 },
    );
    // The model itself says a lot each turn: there are few tool results to clear.
    const talky = Array.from({ length: 20 }, (_, i) => ({
      content: [
        { type: "text" as const, text: `Thinking aloud ${i}: ${"words ".repeat(300)}` },
        { type: "tool_use" as const, name: "bash", input: { command: `echo ${i}` } },
      ],
    }));
    fake.script([...talky, say("Finished.")]);
    const outcome = await s.send("Do twenty steps.");

    expect(outcome.stop).toBe("done");
    expect(outcome.context?.compactions).toBeGreaterThanOrEqual(1);
    const compactions = reports.filter((r) => r.kind === "compaction");
    expect(compactions.length).toBe(outcome.context?.compactions);
    expect(compactions.every((r) => r.costUsd > 0)).toBe(true);
    const after = fake.requests.filter((r) => JSON.stringify(r.body.messages[0]).includes("NOTE-7Q"));
    expect(after.length).toBeGreaterThan(0);
    // The task itself is always still there, first.
    expect(JSON.stringify(after.at(-1)?.body.messages[0])).toContain("Do twenty steps.");
    expect(outcome.turns).toBe(21); // compaction calls are not turns
  });

  it("treats the API's 'prompt is too long' as a reason to compact, with a note of its own when the model cannot write one", async () => {
    // The runner believes the window is huge, so only the API's refusal tells it.
    const s = await start({ contextWindow: 5_000 }, { contextWindow: 1_000_000 });
    fake.script([...printing(20, 1_600), say("Made it.")]);
    const outcome = await s.send("Print a lot.");

    expect(outcome.stop).toBe("done");
    expect(outcome.context?.compactions).toBeGreaterThanOrEqual(1);
    const refused = fake.requests.filter((r) => totalTokens(r.body) > 5_000);
    expect(refused.length).toBeGreaterThanOrEqual(2); // the turn, then the note request, both too long
    const resumed = fake.requests.find((r) => JSON.stringify(r.body.messages[0]).includes("dropped without a summary"));
    expect(resumed).toBeDefined();
  });
});

describe("a reply that fills the context window", () => {
  it("compacts and retries the turn when there are earlier turns to drop", async () => {
    const s = await start({ intercept: (req) => (isCompaction(req) ? say("## Summary\nNOTE-OVF") : undefined) }, {});
    fake.script([
      ...printing(6, 4_000),
      { content: [{ type: "text", text: "x".repeat(50) }], stop_reason: "model_context_window_exceeded" },
      say("Recovered."),
    ]);
    const outcome = await s.send("Go.");

    expect(outcome.stop).toBe("done");
    expect(outcome.finalText).toBe("Recovered.");
    expect(outcome.context?.compactions).toBe(1);
    expect(JSON.stringify(fake.requests.at(-1)?.body.messages[0])).toContain("NOTE-OVF");
  });
});

describe("thinking and effort", () => {
  it("sends the repository's settings on every call and counts the thinking tokens", async () => {
    const s = await start({}, { model: "claude-sonnet-5-5" }, undefined, { thinking: "adaptive", effort: "medium" });
    fake.script([{ ...bash("true"), thinking_tokens: 40, output_tokens: 60 }, { ...say("Done."), thinking_tokens: 5, output_tokens: 9 }]);
    const outcome = await s.send("Think.");

    expect(fake.requests.map((r) => [r.body.thinking, r.body.output_config])).toEqual([
      [{ type: "adaptive" }, { effort: "medium" }],
      [{ type: "adaptive" }, { effort: "medium" }],
    ]);
    expect(outcome.usage.thinking).toBe(45);
    expect(outcome.usage.output).toBe(69); // thinking is part of output, and priced with it
  });
});

describe("prompt cache across a long check", () => {
  // The fake's cache lives 600 ms here, and the check takes 1.5 s: without a refresh the next turn
  // writes the whole prompt again; with one every 250 ms it reads it.
  const system = `You are a coding agent.\n${"Follow the repository's conventions. ".repeat(700)}`;

  async function runWithLongCheck(cacheRefreshMs: number) {
    await rm(path.join(tmp, "fixed"), { force: true });
    reports.length = 0;
    const s = await start(
      { cacheTtlMs: 600, intercept: (req) => (lastUserText(req).includes("[cache refresh]") ? say("OK") : undefined) },
      { cacheRefreshMs },
      system,
    );
    fake.script([say("Done."), bash("touch fixed"), say("Fixed.")]);
    const gated = await runWithChecks({
      session: s,
      firstMessage: "Make the check pass.",
      checkCommand: "test -f fixed || { sleep 1.5; exit 1; }",
      rounds: 1,
      cwd: tmp,
      env: {},
      checkTimeoutMs: 10_000,
      signal: new AbortController().signal,
      jail: plainJail(tmp),
    });
    expect(gated.checks?.passed).toBe(true);
    const turns = fake.requests.map((r, i) => ({ body: r.body, usage: fake.usages[i] }));
    const resumed = turns.find((t) => lastUserText(t.body).includes("test -f fixed"));
    if (!resumed?.usage) throw new Error("no request after the failed check");
    const u = resumed.usage;
    return {
      share: u.cache_read_input_tokens / (u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens),
      refreshes: turns.filter((t) => lastUserText(t.body).includes("[cache refresh]")).length,
    };
  }

  it("reads the cache after the check when refreshed, and writes it all again when not", async () => {
    const warm = await runWithLongCheck(250);
    expect(warm.refreshes).toBeGreaterThanOrEqual(2);
    expect(warm.share).toBeGreaterThanOrEqual(0.9);
    // Each refresh is booked, but one still in flight when the check ends is aborted unanswered.
    expect(reports.filter((r) => r.kind === "refresh").length).toBeGreaterThanOrEqual(warm.refreshes - 1);
    await session?.close();
    await fake.close();

    const cold = await runWithLongCheck(0);
    expect(cold.refreshes).toBe(0);
    expect(cold.share).toBeLessThan(0.1);
  });
});
