import { describe, expect, it } from "vitest";
import { CHECK_OUTPUT_MAX, fitUtf8 } from "../../src/github/check-runs.js";
import { implementedGate, outputText, revisedGate, revisingGate, revisionEndedGate } from "../../src/status/gate-status.js";
import type { Landed, Task } from "../../src/tasks/task.js";

const task = (patch: Partial<Task> = {}): Task =>
  ({
    issueId: "i1",
    identifier: "ENG-7",
    title: "Add pagination",
    issueUrl: "https://linear.app/acme/issue/ENG-7",
    state: "pr-open",
    step: null,
    prNumber: 12,
    turns: 12,
    usage: { input: 45_100, output: 3_200, cacheRead: 120_400, cacheWrite: 8_000 },
    costUsd: 0.42,
    error: null,
    ...patch,
  }) as Task;

const landed = (patch: Partial<Landed> = {}): Landed => ({
  jobId: "j1",
  sha: "a".repeat(40),
  summary: "Done.",
  limitNote: null,
  checks: { command: "npm test", passed: true, output: null },
  ...patch,
});

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

describe("gate status: rendered from the task record", () => {
  it("a passing implement: success, the commit status's words as title, checks and cost in the summary, no text", () => {
    const gate = implementedGate(task(), landed(), { checkCommand: "npm test" });
    expect(gate).toMatchObject({ state: "success", title: "Agent finished; awaiting review", detailsUrl: "https://linear.app/acme/issue/ENG-7" });
    expect(gate.summary).toContain("[ENG-7](https://linear.app/acme/issue/ENG-7): pull request #12 is ready for review.");
    expect(gate.summary).toContain("✅ `npm test` passed.");
    expect(gate.summary).toContain("Cost: 12 turns · 45.1k in · 3.2k out · 120.4k cache read · 8.0k cache write · $0.42.");
    expect(gate.text).toBeUndefined();
  });

  it("failing checks: failure, and the failing check's output as the text in a code block", () => {
    const out = "FAIL test/a.test.ts\n  expected 1 to be 2";
    const gate = implementedGate(task(), landed({ checks: { command: "npm test", passed: false, output: out } }), {});
    expect(gate).toMatchObject({ state: "failure", title: "Agent finished; checks still fail" });
    expect(gate.summary).toContain("is not ready for review");
    expect(gate.summary).toContain("❌ `npm test` still fails; its output is below.");
    expect(gate.text).toBe(`Output of \`npm test\` (tail):\n\n\`\`\`\n${out}\n\`\`\``);
  });

  it("a limit hit says so; no checks says whether a command is configured", () => {
    const limited = implementedGate(task(), landed({ checks: null, limitNote: "The agent stopped after reaching its limit of 30 turns." }), { checkCommand: "npm test" });
    expect(limited.state).toBe("success");
    expect(limited.summary).toContain("> [!WARNING]\n> The agent stopped after reaching its limit of 30 turns.");
    expect(limited.summary).toContain("`npm test` did not run");
    expect(implementedGate(task(), landed({ checks: null }), {}).summary).toContain("No check command is configured for this repository.");
  });

  it("a revision: in progress with its step, then the revised result", () => {
    const working = revisingGate(task({ state: "revising", step: "addressing 3 pieces of feedback" }));
    expect(working).toMatchObject({ state: "in_progress", title: "Agent is revising this pull request" });
    expect(working.summary).toContain("the agent is addressing 3 pieces of feedback.");
    expect(working.text).toBeUndefined();
    expect(revisedGate(task(), landed(), {})).toMatchObject({ state: "success", title: "Agent revised; awaiting review" });
    const failing = revisedGate(task(), landed({ checks: { command: "make check", passed: false, output: "boom" } }), {});
    expect(failing).toMatchObject({ state: "failure", title: "Agent revised; checks still fail" });
    expect(failing.text).toContain("boom");
  });

  it("a failed or stopped revision: error, with the task's reason", () => {
    expect(revisionEndedGate(task({ state: "failed", error: "pull request #12 is closed; nothing to revise" }))).toMatchObject({
      state: "error",
      title: "Agent revision failed: pull request #12 is closed; nothing to revise",
    });
    const stopped = revisionEndedGate(task({ state: "stopped", error: null }));
    expect(stopped.title).toBe("Agent revision stopped: see the Linear issue");
    expect(stopped.summary).toContain("the agent's revision stopped.");
  });

  it("output with backticks gets a longer fence, so it cannot close the block", () => {
    const text = outputText("npm test", "a ```` b");
    expect(text).toContain("`````\na ```` b\n`````");
  });

  it("output over GitHub's 65535 limit keeps its tail (failures are reported at the end), counted in UTF-8 bytes", () => {
    const out = `${"é".repeat(50_000)}\nFAIL the last line`;
    const text = outputText("npm test", out);
    expect(bytes(text)).toBeLessThanOrEqual(CHECK_OUTPUT_MAX);
    expect(bytes(text)).toBeGreaterThan(CHECK_OUTPUT_MAX - 10);
    expect(text).toContain("[… earlier output cut to fit GitHub's limit …]");
    expect(text.endsWith("FAIL the last line\n```")).toBe(true);
    expect(text).not.toContain("\uFFFD");
  });
});

describe("fitUtf8", () => {
  it("leaves text that fits alone", () => {
    expect(fitUtf8("hello", 5, "head")).toBe("hello");
  });

  it("cuts on a character boundary, head or tail, within the byte limit including the marker", () => {
    const s = "ab€€€€cd"; // € is 3 bytes
    const head = fitUtf8(s, 8, "head", "…");
    expect(bytes(head)).toBeLessThanOrEqual(8);
    expect(head).toBe("ab€…");
    const tail = fitUtf8(s, 9, "tail", "…");
    expect(bytes(tail)).toBeLessThanOrEqual(9);
    expect(tail).toBe("…€cd");
  });
});
