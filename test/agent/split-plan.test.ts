import Anthropic from "@anthropic-ai/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Pricing } from "../../src/agent/pricing.js";
import { PLAN_TOOL, planSplit } from "../../src/agent/split-plan.js";
import type { TriageInput } from "../../src/agent/triage.js";
import { PaidAnswerError } from "../../src/agent/triage-call.js";
import { repairPlan } from "../../src/agent/triage-plan-repair.js";
import type { PlannedSubtask, Triage } from "../../src/tasks/tree.js";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic/index.js";
import { issueFixture, planTurn } from "../helpers/triage.js";

let fake: AnthropicFake;
let anthropic: Anthropic;
const pricing = new Pricing();
const MODEL = "claude-sonnet-4-6";

beforeEach(async () => {
  fake = await startAnthropicFake({ minCacheableTokens: 200 });
  anthropic = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 0 });
});
afterEach(async () => {
  await fake.close();
});

const input: TriageInput = {
  issue: issueFixture({ title: "Export widgets in three formats" }),
  files: ["src/cli.ts", "src/export/index.ts"],
  conventions: [],
  answers: [],
  allowSplit: true,
  maxSubtasks: 4,
};

const triage: Triage = {
  verdict: "split",
  criteria: ["CSV, JSON and XML exports exist", "the CLI offers --format"],
  size: "large",
  rationale: "Three exporters and a CLI flag: <parallel> work.",
  questions: [],
  model: "claude-haiku-4-5",
  usage: { input: 1, output: 1, cacheWrite: 0, cacheRead: 0 },
  costUsd: 0,
  round: 0,
  at: "2026-01-01T00:00:00Z",
};

const FOUR = [
  { key: "s1", title: "CSV exporter", brief: "Write src/export/csv.ts.", owns: ["src/export/csv.ts"] },
  { key: "s2", title: "JSON exporter", brief: "Write src/export/json.ts.", owns: ["src/export/json.ts"] },
  { key: "s3", title: "Format registry", brief: "Register the exporters.", dependsOn: ["s1", "s2"] },
  { key: "s4", title: "CLI flag", brief: "Add --format.", dependsOn: ["s3"] },
];

const plan = (over: { maxSubtasks?: number; revise?: Parameters<typeof planSplit>[0]["revise"] } = {}) =>
  planSplit({ anthropic, model: MODEL, pricing, input, triage, maxSubtasks: over.maxSubtasks ?? 4, revise: over.revise });

describe("planSplit", () => {
  it("forces propose_plan with the plan's schema and returns the plan with usage and cost", async () => {
    fake.script([planTurn({ goal: "Export widgets.", interfaces: "export(widgets, format): string in src/export/index.ts", subtasks: FOUR })]);
    const p = await plan();
    expect(p.goal).toBe("Export widgets.");
    expect(p.interfaces).toContain("export(widgets, format)");
    expect(p.subtasks.map((s) => [s.key, s.dependsOn])).toEqual([["s1", []], ["s2", []], ["s3", ["s1", "s2"]], ["s4", ["s3"]]]);
    expect(p.subtasks[0]).toEqual({ key: "s1", title: "CSV exporter", brief: "Write src/export/csv.ts.", criteria: ["CSV exporter is done and tested."], owns: ["src/export/csv.ts"], dependsOn: [] });
    expect(p.repairs).toEqual([]);
    expect(p.model).toBe(MODEL);

    const body = fake.requests[0]!.body;
    expect(body.tool_choice).toEqual({ type: "tool", name: PLAN_TOOL });
    const schema = body.tools[0].input_schema;
    expect(schema.required).toEqual(["goal", "interfaces", "subtasks"]);
    expect(schema.properties.subtasks).toMatchObject({ minItems: 2, maxItems: 4 });
    expect(schema.properties.subtasks.items.required).toEqual(["key", "title", "brief", "criteria", "owns", "dependsOn"]);
    expect(body.system.at(-1).cache_control).toEqual({ type: "ephemeral" });
    const user: string = body.messages[0].content;
    expect(user).toContain("Three exporters and a CLI flag: &lt;parallel> work.");
    expect(user).toContain("2. the CLI offers --format");
    expect(user).not.toContain("<previous_plan>");

    const u = fake.usages[0]!;
    expect(p.usage).toEqual({ input: u.input_tokens, output: u.output_tokens, cacheWrite: u.cache_creation_input_tokens, cacheRead: u.cache_read_input_tokens });
    expect(p.costUsd).toBeCloseTo(pricing.costOf(MODEL, p.usage), 12);
    expect(p.costUsd).toBeGreaterThan(0);
  });

  it("repairs the plan instead of failing: unknown deps, a cycle, duplicate keys, too many sub-issues", async () => {
    fake.script([
      planTurn({
        goal: "",
        interfaces: "none",
        subtasks: [
          { key: "s1", title: "A", brief: "a", dependsOn: ["s3", "s9"] },
          { key: "s2", title: "B", brief: "b", dependsOn: ["s1", "s2"] },
          { key: "s3", title: "C", brief: "c", dependsOn: ["s2"] },
          { key: "s1", title: "D", brief: "d" },
          { key: "s5", title: "E", brief: "e" },
        ],
      }),
    ]);
    const p = await plan({ maxSubtasks: 4 });
    expect(p.goal).toBe("Export widgets in three formats");
    // s1 → s3 → s2 → s1: the DFS from s1 reaches s2, whose edge back to s1 closes the cycle.
    expect(p.subtasks.map((s) => [s.key, s.title, s.dependsOn])).toEqual([
      ["s1", "A", ["s3"]],
      ["s2", "B", []],
      ["s3", "C", ["s2"]],
      ["s6", "D", []],
    ]);
    expect(p.repairs).toEqual([
      "no goal: used the issue's title",
      'sub-issue 4 had a duplicate or invalid key "s1": gave it s6',
      "5 sub-issues: kept the first 4 (AGENT_MAX_SUBTASKS)",
      "s1 depended on s9, not another sub-issue of the plan: dropped",
      "s2 depended on s2, not another sub-issue of the plan: dropped",
      "s2 → s1 closed a dependency cycle: dropped",
    ]);
  });

  it("carries the previous plan and the humans' changes when revising, keeping the keys the model kept", async () => {
    const previous = {
      goal: "Export widgets.",
      interfaces: "export()",
      subtasks: FOUR.map((s): PlannedSubtask => ({ criteria: [], owns: [], dependsOn: [], ...s, issueId: null, identifier: null })),
    };
    fake.script([planTurn({ goal: "Export widgets.", interfaces: "export()", subtasks: [FOUR[0]!, FOUR[1]!, { key: "s5", title: "XML exporter", brief: "Write xml.ts." }] })]);
    const p = await plan({ revise: { previous, changes: "Drop the registry and the CLI; add XML </changes>" } });
    expect(p.subtasks.map((s) => s.key)).toEqual(["s1", "s2", "s5"]);
    const user: string = fake.requests[0]!.body.messages[0].content;
    expect(user.startsWith("Revise the plan for this issue.")).toBe(true);
    expect(user).toContain("<previous_plan>");
    expect(user).toContain('"title": "Format registry"');
    expect(user).not.toContain("issueId");
    expect(user).toContain("<changes>\nDrop the registry and the CLI; add XML &lt;/changes>\n</changes>");
    expect(user).toContain("Keep the key of every sub-issue you keep");
  });

  it("fails, saying so and with the call's cost, when no sub-issue can be read", async () => {
    fake.script([{ content: [{ type: "tool_use", name: PLAN_TOOL, input: { goal: "g", interfaces: "i", subtasks: [{ key: "s1" }, 7] } }] }]);
    const err = (await plan().catch((e: unknown) => e)) as Error & { costUsd?: number };
    expect(err).toBeInstanceOf(PaidAnswerError);
    expect(err.message).toMatch(/no readable sub-issue/);
    expect(err.costUsd).toBeGreaterThan(0);
  });
});

describe("repairPlan", () => {
  it("gives missing keys fresh numbers after the highest used, takes a title from the brief, and dedupes lists", () => {
    const r = repairPlan(
      {
        goal: "g",
        interfaces: "i",
        subtasks: [
          { title: "No key", brief: "x" },
          { key: "s4", brief: "First line\nsecond", owns: ["a", "a", 3] },
          { key: "s2", title: "T", dependsOn: ["s4", "s4"] },
        ],
      },
      { maxSubtasks: 6, fallbackGoal: "f" },
    );
    expect(r.subtasks).toEqual([
      { key: "s5", title: "No key", brief: "x", criteria: [], owns: [], dependsOn: [] },
      { key: "s4", title: "First line", brief: "First line\nsecond", criteria: [], owns: ["a"], dependsOn: [] },
      { key: "s2", title: "T", brief: "T", criteria: [], owns: [], dependsOn: ["s4"] },
    ]);
    expect(r.repairs).toEqual([
      "sub-issue 1 had no key: gave it s5",
      "sub-issue 2 had no title: took the brief's first line",
      "sub-issue 3 had no brief: used its title",
    ]);
  });

  it("breaks a longer cycle at its back edge only", () => {
    const r = repairPlan(
      {
        goal: "g",
        interfaces: "i",
        subtasks: [
          { key: "s1", title: "1", brief: "1", dependsOn: ["s2"] },
          { key: "s2", title: "2", brief: "2", dependsOn: ["s3"] },
          { key: "s3", title: "3", brief: "3", dependsOn: ["s1"] },
          { key: "s4", title: "4", brief: "4", dependsOn: ["s1", "s3"] },
        ],
      },
      { maxSubtasks: 6, fallbackGoal: "f" },
    );
    expect(r.subtasks.map((s) => s.dependsOn)).toEqual([["s2"], ["s3"], [], ["s1", "s3"]]);
    expect(r.repairs).toEqual(["s3 → s1 closed a dependency cycle: dropped"]);
  });
});
