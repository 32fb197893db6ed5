import Anthropic, { AuthenticationError, BadRequestError } from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { type AnthropicFake, startAnthropicFake } from "./anthropic/index.js";

const MODEL = "claude-sonnet-5-5";
const BIG_SYSTEM = `You are a careful coding agent. ${"Follow the repository conventions exactly. ".repeat(150)}`;
const TOOLS = [
  {
    name: "read_file",
    description: "Read a file from the working tree",
    input_schema: { type: "object" as const, properties: { path: { type: "string" } }, required: ["path"] },
  },
];

let fake: AnthropicFake | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function client(f: AnthropicFake, maxRetries = 0): Anthropic {
  return new Anthropic({ apiKey: f.apiKey, baseURL: f.url, maxRetries });
}

describe("Anthropic Messages fake with the real SDK", () => {
  it("runs a two-turn tool-use exchange and reports cache usage", async () => {
    fake = await startAnthropicFake();
    fake.script([
      {
        content: [
          { type: "text", text: "Let me read it." },
          { type: "tool_use", name: "read_file", input: { path: "src/a.ts" } },
        ],
      },
      (req) => ({
        content: [{ type: "text", text: `The file says: ${req.messages.at(-1).content[0].content}` }],
      }),
    ]);
    const anthropic = client(fake);
    const system = [
      { type: "text" as const, text: BIG_SYSTEM, cache_control: { type: "ephemeral" as const } },
    ];
    const first: Anthropic.MessageParam = { role: "user", content: "What is in src/a.ts?" };

    const r1 = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 1024,
      system,
      tools: TOOLS,
      messages: [first],
    });
    expect(r1.model).toBe(MODEL);
    expect(r1.id).toMatch(/^msg_/);
    expect(r1.stop_reason).toBe("tool_use");
    const toolUse = r1.content[1];
    if (toolUse?.type !== "tool_use") throw new Error("expected a tool_use block");
    expect(toolUse.id).toMatch(/^toolu_/);
    expect(toolUse.name).toBe("read_file");
    expect(toolUse.input).toEqual({ path: "src/a.ts" });
    expect(r1.usage.cache_creation_input_tokens).toBeGreaterThan(1024);
    expect(r1.usage.cache_read_input_tokens).toBe(0);
    expect(r1.usage.input_tokens).toBeGreaterThan(0);

    const r2 = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 1024,
      system,
      tools: TOOLS,
      messages: [
        first,
        { role: "assistant", content: r1.content },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: toolUse.id, content: "export const a = 1;" }],
        },
      ],
    });
    expect(r2.stop_reason).toBe("end_turn");
    expect(r2.content).toEqual([
      { type: "text", text: "The file says: export const a = 1;", citations: null },
    ]);
    expect(r2.usage.cache_read_input_tokens).toBe(r1.usage.cache_creation_input_tokens);
    expect(r2.usage.cache_creation_input_tokens).toBe(0);
    const total = (u: Anthropic.Usage) =>
      u.input_tokens + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
    expect(total(r2.usage)).toBeGreaterThan(total(r1.usage));

    expect(fake.usages).toEqual([
      {
        input_tokens: r1.usage.input_tokens,
        output_tokens: r1.usage.output_tokens,
        cache_creation_input_tokens: r1.usage.cache_creation_input_tokens,
        cache_read_input_tokens: 0,
      },
      {
        input_tokens: r2.usage.input_tokens,
        output_tokens: r2.usage.output_tokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: r2.usage.cache_read_input_tokens,
      },
    ]);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]?.body.messages[2].content[0].tool_use_id).toBe(toolUse.id);
    expect(fake.requests[0]?.headers["anthropic-version"]).toBeTruthy();
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${fake.apiKey}`);

    const r3 = await anthropic.messages.create({ model: MODEL, max_tokens: 10, messages: [first] });
    expect(r3.content).toEqual([{ type: "text", text: "Done.", citations: null }]);
  });

  it("caches nothing below the minimum cacheable prefix", async () => {
    fake = await startAnthropicFake({ minCacheableTokens: 1024 });
    const anthropic = client(fake);
    const params = {
      model: MODEL,
      max_tokens: 100,
      system: [
        {
          type: "text" as const,
          text: "Short system prompt.",
          cache_control: { type: "ephemeral" as const },
        },
      ],
      messages: [{ role: "user" as const, content: "hi" }],
    };
    const a = await anthropic.messages.create(params);
    const b = await anthropic.messages.create(params);
    for (const u of [a.usage, b.usage]) {
      expect(u.cache_creation_input_tokens).toBe(0);
      expect(u.cache_read_input_tokens).toBe(0);
      expect(u.input_tokens).toBe(a.usage.input_tokens);
    }
    expect(a.usage.input_tokens).toBeGreaterThan(5);
  });

  it("lets the SDK retry a 429 that carries retry-after", async () => {
    fake = await startAnthropicFake();
    fake.script([
      {
        error: {
          status: 429,
          type: "rate_limit_error",
          message: "Number of requests has exceeded your rate limit",
          retryAfterSeconds: 0.05,
        },
      },
      { content: [{ type: "text", text: "ok" }] },
    ]);
    const res = await client(fake, 1).messages.create({
      model: MODEL,
      max_tokens: 10,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(res.content).toEqual([{ type: "text", text: "ok", citations: null }]);
    expect(fake.requests.map((r) => r.headers["x-stainless-retry-count"])).toEqual(["0", "1"]);

    fake.script([{ error: { status: 529, type: "overloaded_error", message: "Overloaded" } }]);
    await expect(
      client(fake).messages.create({
        model: MODEL,
        max_tokens: 10,
        messages: [{ role: "user", content: "hi" }],
      }),
    ).rejects.toMatchObject({ status: 529, type: "overloaded_error" });
  });

  it("rejects protocol errors with 400 invalid_request_error", async () => {
    fake = await startAnthropicFake();
    fake.script([{ content: [{ type: "text", text: "unused" }] }]);
    const anthropic = client(fake);
    const missingResult = anthropic.messages.create({
      model: MODEL,
      max_tokens: 10,
      tools: TOOLS,
      messages: [
        { role: "user", content: "read it" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_1", name: "read_file", input: { path: "a" } }],
        },
        { role: "user", content: "any news?" },
      ],
    });
    await expect(missingResult).rejects.toBeInstanceOf(BadRequestError);
    await expect(missingResult).rejects.toMatchObject({
      status: 400,
      type: "invalid_request_error",
      message: expect.stringContaining(
        "`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1",
      ),
    });
    const doubleUser = anthropic.messages.create({
      model: MODEL,
      max_tokens: 10,
      messages: [
        { role: "user", content: "a" },
        { role: "user", content: "b" },
      ],
    });
    await expect(doubleUser).rejects.toMatchObject({ status: 400 });
    const cc = { type: "ephemeral" as const };
    const tooMany = anthropic.messages.create({
      model: MODEL,
      max_tokens: 10,
      system: [1, 2, 3, 4, 5].map((n) => ({ type: "text" as const, text: `part ${n}`, cache_control: cc })),
      messages: [{ role: "user", content: "a" }],
    });
    await expect(tooMany).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("A maximum of 4 blocks with cache_control may be provided. Found 5."),
    });
    expect(fake.pendingTurns()).toBe(1);
  });

  it("rejects a wrong API key", async () => {
    fake = await startAnthropicFake();
    const bad = new Anthropic({ apiKey: "sk-ant-wrong", baseURL: fake.url, maxRetries: 0 });
    const call = bad.messages.create({
      model: MODEL,
      max_tokens: 10,
      messages: [{ role: "user", content: "hi" }],
    });
    await expect(call).rejects.toBeInstanceOf(AuthenticationError);
    await expect(call).rejects.toMatchObject({ status: 401, type: "authentication_error" });
  });

  it("streams a tool_use turn as server-sent events", async () => {
    fake = await startAnthropicFake();
    fake.script([
      {
        content: [
          { type: "tool_use", id: "toolu_fixed", name: "read_file", input: { path: "src/long/path.ts" } },
        ],
      },
    ]);
    const stream = client(fake).messages.stream({
      model: MODEL,
      max_tokens: 100,
      tools: TOOLS,
      messages: [{ role: "user", content: "read" }],
    });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    expect(final.content).toMatchObject([
      { type: "tool_use", id: "toolu_fixed", input: { path: "src/long/path.ts" } },
    ]);
    expect(final.usage.output_tokens).toBe(fake.usages[0]?.output_tokens);
    expect(final.usage.input_tokens).toBe(fake.usages[0]?.input_tokens);
  });
});
