import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type Anthropic from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { createAnthropic } from "../../src/agent/anthropic-client.js";
import { AnthropicRunner } from "../../src/agent/anthropic-runner.js";
import { CacheBreakpoints, MESSAGE_BREAKPOINTS, withCacheBreakpoints } from "../../src/agent/cache-breakpoints.js";
import type { AgentSession } from "../../src/agent/runner.js";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic/index.js";
import { say } from "../helpers/turns.js";
import { plainJail } from "../helpers/jail.js";

type Message = Anthropic.Messages.MessageParam;

const marksOf = (messages: Message[]): string[] =>
  messages.flatMap((m, i) =>
    (m.content as Array<{ cache_control?: unknown }>).flatMap((b, j) => (b.cache_control ? [`${i}.${j}`] : [])),
  );

const issue = (): Message => ({ role: "user", content: [{ type: "text", text: "issue" }] });
const calls = (ids: string[]): Message => ({
  role: "assistant",
  content: ids.map((id) => ({ type: "tool_use" as const, id, name: "bash", input: {} })),
});
const results = (ids: string[]): Message => ({
  role: "user",
  content: ids.map((id) => ({ type: "tool_result" as const, tool_use_id: id, content: "ok" })),
});
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("cache breakpoint placement", () => {
  it("keeps a breakpoint where the previous request ended, even when a turn added many blocks", () => {
    const bp = new CacheBreakpoints();
    const history: Message[] = [issue(), calls(["a"]), results(["a"])];
    expect(marksOf(bp.mark(history))).toEqual(["0.0", "2.0"]);
    // 15 parallel calls: 30 new blocks, beyond the API's ~20-block lookback from the newest mark.
    history.push(calls(ids("b", 15)), results(ids("b", 15)));
    expect(marksOf(bp.mark(history))).toEqual(["0.0", "2.0", "4.14"]);
    history.push(calls(["c"]), results(["c"]));
    expect(marksOf(bp.mark(history))).toEqual(["0.0", "4.14", "6.0"]);
  });

  it("follows blocks appended to the last user message, and never duplicates a mark", () => {
    const bp = new CacheBreakpoints();
    const history: Message[] = [issue()];
    expect(marksOf(bp.mark(history))).toEqual(["0.0"]);
    expect(marksOf(bp.mark(history))).toEqual(["0.0"]);
    (history[0]?.content as Anthropic.Messages.ContentBlockParam[]).push({ type: "text", text: "more" });
    expect(marksOf(bp.mark(history))).toEqual(["0.0", "0.1"]);
  });

  it("never uses more than the budget, whatever it is given, and drops stale marks", () => {
    const history: Message[] = [issue(), calls(["a"]), results(["a"]), calls(["b", "c"]), results(["b", "c"])];
    for (const m of history)
      for (const b of m.content as Array<{ cache_control?: unknown }>) b.cache_control = { type: "ephemeral" };
    for (let end = 0; end < history.length; end++) {
      for (let budget = 0; budget <= MESSAGE_BREAKPOINTS; budget++) {
        const marks = marksOf(withCacheBreakpoints(history, { message: end, block: 0 }, budget));
        expect(marks.length).toBeLessThanOrEqual(budget);
        // The system prompt's breakpoint makes one more: the API's limit of 4 holds.
        expect(marks.length + 1).toBeLessThanOrEqual(4);
      }
    }
    expect(marksOf(withCacheBreakpoints(history, { message: 2, block: 0 }, 1))).toEqual(["4.1"]);
    expect(marksOf(withCacheBreakpoints(history, { message: 2, block: 0 }, 2))).toEqual(["2.0", "4.1"]);
    // A position this history does not have is ignored rather than moved somewhere else.
    expect(marksOf(withCacheBreakpoints(history, { message: 9, block: 0 }))).toEqual(["0.0", "4.1"]);
  });

  it("moves a mark off a thinking block to the nearest block that can carry one", () => {
    const history: Message[] = [
      issue(),
      {
        role: "assistant",
        content: [
          { type: "text", text: "Working." },
          { type: "thinking", thinking: "hmm", signature: "sig" },
        ],
      },
    ];
    expect(marksOf(withCacheBreakpoints(history))).toEqual(["0.0", "1.0"]);
  });
});

describe("prompt caching across a turn with many parallel tool calls (fake Messages API)", () => {
  let fake: AnthropicFake | undefined;
  let session: AgentSession | undefined;
  let tmp: string | undefined;
  afterEach(async () => {
    await session?.close();
    await fake?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("reads the whole previous request from the cache instead of writing it again", async () => {
    fake = await startAnthropicFake();
    tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), "awf-cache-")));
    const many = (n: number) => ({
      content: Array.from({ length: n }, (_, i) => ({
        type: "tool_use" as const,
        name: "bash",
        input: { command: `echo ${i}` },
      })),
    });
    fake.script([many(1), many(12), say("Done.")]);
    const runner = new AnthropicRunner({
      client: createAnthropic({ apiKey: fake.apiKey, baseUrl: fake.url, maxRetries: 0 }),
      model: "claude-sonnet-4-6",
      maxTokens: 1024,
      commandEnv: { PATH: "/usr/local/bin:/usr/bin:/bin" },
      commandTimeoutMs: 10_000,
    });
    session = runner.startSession({
      worktree: tmp,
      // Over the 1,024-token minimum, so every prefix is cacheable.
      system: `You are a coding agent. ${"Follow the repository conventions. ".repeat(200)}`,
      jail: plainJail(tmp),
      limits: { maxTurns: 10, budgetUsd: 5 },
      signal: new AbortController().signal,
    });
    expect((await session.send("Run the commands.")).stop).toBe("done");

    const [, second, third] = fake.usages;
    if (!second || !third) throw new Error("expected three requests");
    // The third request adds 25 blocks (12 tool_use, 12 tool_result and the limits note) to the
    // second's history.
    const last: Array<{ cache_control?: unknown }> = fake.requests[2]?.body.messages.at(-1).content;
    expect(last).toHaveLength(13);
    const written = second.cache_read_input_tokens + second.cache_creation_input_tokens;
    expect(third.cache_read_input_tokens).toBe(written);
    // Only the new blocks are written; before, the whole history was written again.
    expect(third.cache_creation_input_tokens).toBeLessThan(written / 2);
    for (const req of fake.requests) {
      const marks = JSON.stringify(req.body).split('"cache_control"').length - 1;
      expect(marks).toBeLessThanOrEqual(4);
    }
  });
});
