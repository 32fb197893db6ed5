import { describe, expect, it } from "vitest";
import { criterionMet, keepCriteria, matchCriteria, renderPrBody, splitCriteriaReport } from "../../src/status/pr-body.js";
import type { Task, Triage } from "../../src/tasks/task.js";

const triage = (criteria: string[]): Triage => ({
  verdict: "ready",
  criteria,
  size: "small",
  rationale: "clear",
  questions: [],
  model: "claude-haiku-4-5",
  usage: { input: 100, output: 10, cacheRead: 0, cacheWrite: 0 },
  costUsd: 0.001,
  round: 0,
  at: "2026-03-02T08:00:00.000Z",
});

const task = (patch: Partial<Task> = {}): Task =>
  ({
    issueId: "i1",
    identifier: "ENG-7",
    title: "Add pagination",
    issueUrl: "https://linear.app/acme/issue/ENG-7",
    turns: 12,
    usage: { input: 45_100, output: 3_200, cacheRead: 120_400, cacheWrite: 8_000 },
    costUsd: 0.42,
    checks: { command: "npm test", passed: true, summary: "ok" },
    ...patch,
  }) as Task;

const body = (t: Task, summary: string) =>
  renderPrBody(t, { summary, model: "claude-sonnet-5-5", agentHandle: "@agent", limitNote: null, checksOutput: null });

const REPORT = [
  "## Summary",
  "Added cursor pagination.",
  "",
  "## Open points",
  "None.",
  "",
  "## Acceptance criteria",
  "1. met: `npm test` pages through three pages in orders.test.ts",
  "2. not met: the OpenAPI spec was not found in the repository",
  "",
  "## Notes",
  "Kept the old offset parameter.",
].join("\n");

describe("PR body: acceptance criteria", () => {
  it("lists triage's criteria with the report's verdict and how it was verified, and keeps the rest of the report", () => {
    const text = body(task({ triage: triage(["GET /orders pages with ?cursor=", "The OpenAPI spec documents it", "No new dependency"]) }), REPORT);
    expect(text).toContain(
      [
        "## Acceptance criteria",
        "1. ✅ GET /orders pages with ?cursor= — met: `npm test` pages through three pages in orders.test.ts",
        "2. ❌ The OpenAPI spec documents it — not met: the OpenAPI spec was not found in the repository",
        "3. ❔ No new dependency — _the agent's report does not say_",
      ].join("\n"),
    );
    // The report's own section moved next to the criteria; what came after it stays.
    expect(text.match(/## Acceptance criteria/g)).toHaveLength(1);
    expect(text).toContain("Kept the old offset parameter.");
    expect(text.indexOf("## What the agent did")).toBeLessThan(text.indexOf("## Acceptance criteria"));
    expect(text.indexOf("## Acceptance criteria")).toBeLessThan(text.indexOf("## Checks"));
  });

  it("leaves the report as written when the task has no criteria", () => {
    const text = body(task(), REPORT);
    expect(text).toContain("## Acceptance criteria\n1. met: `npm test`");
    expect(text).not.toContain("1. ✅");
  });

  it("says so for every criterion when the report has no criteria section", () => {
    const text = body(task({ triage: triage(["A", "B"]) }), "Done.");
    expect(text).toContain("1. ❔ A — _the agent's report does not say_\n2. ❔ B — _the agent's report does not say_");
  });

  it("reads the verdicts from the task's hand-off when the report (a revision's) has none", () => {
    const text = body(task({ triage: triage(["A", "B"]), handoff: REPORT }), "Addressed the review: renamed the cursor.");
    expect(text).toContain("1. ✅ A — met: `npm test`");
    expect(text).toContain("2. ❌ B — not met");
    expect(text).toContain("Addressed the review: renamed the cursor.");
  });

  it("names the parent of a sub-issue under the issue link", () => {
    const text = body(task({ parent: { issueId: "p", identifier: "ENG-1", key: "s2" } }), "Done.");
    expect(text.split("\n").slice(0, 2)).toEqual(["Resolves [ENG-7](https://linear.app/acme/issue/ENG-7): Add pagination", "Part of ENG-1"]);
    expect(body(task(), "Done.")).not.toContain("Part of");
  });

  it("reads the lines by number in several shapes, or in order when they carry none", () => {
    expect(matchCriteria(3, ["- **2** — met, see test", "Criterion 1: not met", "3) met"])).toEqual(["not met", "met, see test", "met"]);
    expect(matchCriteria(2, ["- met by the unit test", "- unmet"])).toEqual(["met by the unit test", "unmet"]);
    expect(criterionMet("Met: ran it")).toBe(true);
    expect(criterionMet("partially met")).toBe(false);
    expect(criterionMet("the metrics page loads")).toBeNull();
    expect(splitCriteriaReport("no section").lines).toBeNull();
    expect(splitCriteriaReport("x\n### Acceptance criteria:\n1. met\n").lines).toEqual(["1. met"]);
  });
});

describe("keepCriteria", () => {
  it("keeps the previous run's criteria verdicts when a revision's report does not restate them", () => {
    const previous = "## Summary\nfirst\n## Acceptance criteria\n1. met: tested with sh check.sh";
    expect(keepCriteria("## Summary\nrevised", previous)).toBe("## Summary\nrevised\n## Acceptance criteria\n1. met: tested with sh check.sh");
    const restated = "## Summary\nrevised\n## Acceptance criteria\n1. not met: still failing";
    expect(keepCriteria(restated, previous)).toBe(restated);
    expect(keepCriteria("", previous)).toBe(previous);
    expect(keepCriteria("## Summary\nno criteria", null)).toBe("## Summary\nno criteria");
  });
});
