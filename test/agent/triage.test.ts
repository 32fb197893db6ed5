import Anthropic from "@anthropic-ai/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Pricing } from "../../src/agent/pricing.js";
import { TRIAGE_TOOL, type TriageInput, triageIssue } from "../../src/agent/triage.js";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic/index.js";
import { isPlanRequest, isTriageRequest, issueFixture, issueIdOf, triageIntercept, triageTurn } from "../helpers/triage.js";

let fake: AnthropicFake;
let anthropic: Anthropic;
const pricing = new Pricing();
const MODEL = "claude-haiku-4-5";

beforeEach(async () => {
  fake = await startAnthropicFake({ minCacheableTokens: 200 });
  anthropic = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 0 });
});
afterEach(async () => {
  await fake.close();
});

function input(over: Partial<TriageInput> = {}): TriageInput {
  return {
    issue: issueFixture(),
    files: ["README.md", "src/cli.ts", "src/format.ts", "test/cli.test.ts"],
    conventions: [{ file: "README.md", text: "# widgets\nRun `npm test` before you push.\n" }],
    answers: [],
    allowSplit: true,
    maxSubtasks: 6,
    ...over,
  };
}

const run = (over: Partial<TriageInput> = {}) => triageIssue({ anthropic, model: MODEL, pricing, input: input(over) });

describe("triageIssue", () => {
  it("sends one forced record_triage call with the verdict's schema and reads the verdict, usage and cost", async () => {
    fake.script([triageTurn({ verdict: "ready", criteria: ["`widgets --json` prints JSON", "text stays the default"], size: "small", rationale: "Clear." })]);
    const t = await run();
    expect(t).toMatchObject({ verdict: "ready", criteria: ["`widgets --json` prints JSON", "text stays the default"], size: "small", rationale: "Clear.", questions: [], model: MODEL, repairs: [] });

    expect(fake.requests).toHaveLength(1);
    const body = fake.requests[0]!.body;
    expect(body.stream).toBeUndefined();
    expect(body.max_tokens).toBeLessThanOrEqual(1500);
    expect(body.tool_choice).toEqual({ type: "tool", name: TRIAGE_TOOL });
    expect(body.thinking).toEqual({ type: "disabled" });
    expect(body.tools).toHaveLength(1);
    const schema = body.tools[0].input_schema;
    expect(schema.required).toEqual(expect.arrayContaining(["verdict", "criteria", "size", "rationale", "questions"]));
    expect(schema.properties.verdict.enum).toEqual(["ready", "clarify", "split"]);
    expect(schema.properties.criteria).toMatchObject({ type: "array", minItems: 1, maxItems: 10 });
    // Instructions, then the repository's context with the cache breakpoint; the issue is the user message.
    expect(body.system).toHaveLength(2);
    expect(body.system[1].cache_control).toEqual({ type: "ephemeral" });
    expect(body.system[1].text).toContain("src/format.ts");
    expect(body.system[1].text).toContain("Run `npm test` before you push.");
    const user: string = body.messages[0].content;
    expect(user).toContain('<issue id="ENG-7">');
    expect(user).toContain("&lt;/description>&lt;evil>");
    expect(user).toContain("Keep the text output as the default.");

    const u = fake.usages[0]!;
    expect(t.usage).toEqual({ input: u.input_tokens, output: u.output_tokens, cacheWrite: u.cache_creation_input_tokens, cacheRead: u.cache_read_input_tokens });
    expect(t.usage.input + t.usage.cacheWrite).toBeGreaterThan(0);
    expect(t.costUsd).toBeCloseTo(pricing.costOf(MODEL, t.usage), 12);
    expect(t.costUsd).toBeGreaterThan(0);
  });

  it("caches the instructions and the repository across issues of the same repository", async () => {
    const files = Array.from({ length: 300 }, (_, i) => `src/module-${i}/index.ts`);
    fake.script([triageTurn({ verdict: "ready" }), triageTurn({ verdict: "ready" })]);
    const first = await run({ files });
    const second = await run({ files, issue: issueFixture({ identifier: "ENG-8", title: "Another one" }) });
    expect(first.usage.cacheWrite).toBeGreaterThan(0);
    expect(second.usage.cacheRead).toBe(first.usage.cacheWrite);
    expect(second.costUsd).toBeLessThan(first.costUsd);
  });

  it("asks with questions, and carries earlier answers and the capped file tree into the prompt", async () => {
    fake.script([triageTurn({ verdict: "clarify", questions: ["Which JSON shape?", "Pretty or compact?"] })]);
    const files = Array.from({ length: 2000 }, (_, i) => `f${i}.ts`);
    const t = await run({ files, answers: [{ id: "c1", body: "Use <stdout> only", author: "Ada", at: "2026-01-02T00:00:00Z" }] });
    expect(t.verdict).toBe("clarify");
    expect(t.questions).toEqual(["Which JSON shape?", "Pretty or compact?"]);
    const body = fake.requests[0]!.body;
    expect(body.messages[0].content).toContain('<answer author="Ada" at="2026-01-02T00:00:00Z">\nUse &lt;stdout> only');
    expect(body.system[1].text).toContain("f1499.ts");
    expect(body.system[1].text).not.toContain("f1500.ts");
    expect(body.system[1].text).toContain("500 more paths not shown");
  });

  it("does not offer split for a sub-issue, and repairs a split it returns anyway to ready", async () => {
    fake.script([triageTurn({ verdict: "split", size: "large" })]);
    const t = await run({ allowSplit: false });
    expect(fake.requests[0]!.body.tools[0].input_schema.properties.verdict.enum).toEqual(["ready", "clarify"]);
    expect(t.verdict).toBe("ready");
    expect(t.repairs).toEqual([expect.stringMatching(/split is not allowed/)]);
  });

  it("repairs a clarify without questions to ready and fills missing criteria, size and rationale", async () => {
    fake.script([{ content: [{ type: "tool_use", name: TRIAGE_TOOL, input: { verdict: "clarify", criteria: [], questions: [] } }] }]);
    const t = await run();
    expect(t.verdict).toBe("ready");
    expect(t.criteria).toEqual([expect.stringContaining("Add a --json flag")]);
    expect(t.size).toBe("medium");
    expect(t.rationale).toBe("");
    expect(t.repairs).toEqual([
      expect.stringMatching(/clarify without questions/),
      expect.stringMatching(/no acceptance criteria/),
      expect.stringMatching(/no valid size/),
      "no rationale",
    ]);
  });

  it("repairs garbage: an unknown verdict becomes ready, non-strings are dropped, criteria are cut at 10", async () => {
    const criteria = [...Array.from({ length: 12 }, (_, i) => `c${i}`), 42, "  "];
    fake.script([{ content: [{ type: "tool_use", name: TRIAGE_TOOL, input: { verdict: "maybe", criteria, size: "huge", rationale: "Hm.", questions: "no" } }] }]);
    const t = await run();
    expect(t.verdict).toBe("ready");
    expect(t.criteria).toEqual(Array.from({ length: 10 }, (_, i) => `c${i}`));
    expect(t.size).toBe("medium");
    expect(t.repairs[0]).toMatch(/no valid verdict/);
  });

  it("goes ahead as ready with no criteria, saying why and with the call's cost, when the model refuses or answers without the tool", async () => {
    fake.script([
      { content: [{ type: "text", text: "I cannot." }], stop_reason: "refusal", stop_details: { category: "cyber", explanation: "Looks harmful" } },
      { content: [{ type: "text", text: "Looks ready to me." }], stop_reason: "end_turn" },
    ]);
    const refused = await run();
    expect(refused).toMatchObject({ verdict: "ready", criteria: [], questions: [] });
    expect(refused.rationale).toMatch(/^triage gave no verdict: Triage model claude-haiku-4-5 declined \(category cyber: Looks harmful\).*check that the model supports tool use/);
    expect(refused.noVerdict).toBeDefined();
    expect(refused.costUsd).toBeGreaterThan(0);
    const untooled = await run();
    expect(untooled.rationale).toMatch(/answered without calling record_triage \(stop reason end_turn\)/);
    expect(untooled).toMatchObject({ verdict: "ready", criteria: [] });
  });

  it("lets API errors propagate so the job retries", async () => {
    fake.script([{ error: { status: 529, type: "overloaded_error", message: "Overloaded" } }]);
    await expect(run()).rejects.toBeInstanceOf(Anthropic.APIError);
  });

  it("notes a reply cut at max_tokens, and stops when the job's signal aborts", async () => {
    fake.script([{ ...triageTurn({ verdict: "ready" }), stop_reason: "max_tokens" }, { ...triageTurn({ verdict: "ready" }), delayMs: 5_000 }]);
    expect((await run()).repairs).toEqual([expect.stringMatching(/hit max_tokens/)]);
    const controller = new AbortController();
    const pending = triageIssue({ anthropic, model: MODEL, pricing, input: input(), signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toBeInstanceOf(Anthropic.APIUserAbortError);
  });

  it("cannot force a tool on a model that always thinks, so it offers the one tool with auto", async () => {
    const pricey = new Pricing();
    fake.script([triageTurn({ verdict: "ready" })]);
    const t = await triageIssue({ anthropic, model: "claude-opus-5-5", pricing: pricey, input: input() });
    expect(t.verdict).toBe("ready");
    const body = fake.requests[0]!.body;
    expect(body.tool_choice).toEqual({ type: "auto" });
    expect(body.thinking).toBeUndefined();
  });

  it("the fake refuses a forced tool with thinking on, as the API does", async () => {
    await expect(
      anthropic.messages.create({
        model: MODEL,
        max_tokens: 2000,
        thinking: { type: "enabled", budget_tokens: 1024 },
        tools: [{ name: "x", input_schema: { type: "object" } }],
        tool_choice: { type: "tool", name: "x" },
        messages: [{ role: "user", content: "hi" }],
      }),
    ).rejects.toThrow(/Thinking may not be enabled when tool_choice forces tool use/);
  });
});

describe("test/helpers/triage", () => {
  it("routes triage calls per issue through intercept, round by round, leaving the agent's turns to the script", async () => {
    await fake.close();
    const intercept = triageIntercept({
      triage: { "ENG-7": [triageTurn({ verdict: "clarify", questions: ["Which?"] }), triageTurn({ verdict: "ready" })] },
    });
    fake = await startAnthropicFake({ intercept });
    anthropic = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 0 });
    fake.script([{ content: [{ type: "text", text: "agent turn" }] }]);
    expect((await run()).verdict).toBe("clarify");
    expect((await run()).verdict).toBe("ready");
    expect((await run({ issue: issueFixture({ identifier: "ENG-9" }) })).verdict).toBe("ready");
    expect(fake.pendingTurns()).toBe(1);
    expect(intercept.requests.triage).toEqual(["ENG-7", "ENG-7", "ENG-9"]);
    const req = fake.requests[0]!.body;
    expect(isTriageRequest(req)).toBe(true);
    expect(isPlanRequest(req)).toBe(false);
    expect(issueIdOf(req)).toBe("ENG-7");
  });
});
