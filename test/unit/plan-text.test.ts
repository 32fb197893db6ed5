import { describe, expect, it } from "vitest";
import { blockersFirst } from "../../jobs/tree/plan-create.js";
import { isApproval, renderPlanProposal, revisedOnceReply, subIssueDescription } from "../../src/status/plan-text.js";
import type { SubtaskSpec } from "../../src/tasks/task.js";

const sub = (key: string, dependsOn: string[] = []): SubtaskSpec => ({
  key,
  title: `Title ${key}`,
  brief: `Brief of ${key}. `.repeat(key === "s1" ? 60 : 1),
  criteria: [`${key} works`],
  owns: [`src/${key}.ts`],
  dependsOn,
});

const plan = { goal: "Ship the\nwidget.", interfaces: "`widget(): string` in src/widget.ts", revisions: 0, subtasks: [sub("s1"), sub("s2"), sub("s3", ["s1", "s2"])] };

describe("plan text", () => {
  it("renders goal, interfaces, each sub-issue and how to answer", () => {
    const text = renderPlanProposal(plan);
    expect(text).toContain("**Proposed plan: 3 sub-issues**");
    expect(text).toContain("**Goal.** Ship the widget.");
    expect(text).toContain("`widget(): string` in src/widget.ts");
    expect(text).toContain("**1. Title s1** · can start at once");
    expect(text).toContain("**3. Title s3** · after 1, 2");
    expect(text).toContain("- s3 works");
    expect(text).toContain("Owns: `src/s3.ts`");
    expect(text).toContain("Reply **approve** to create these sub-issues, or reply with the changes you want");
    // The proposal shows a short brief; the sub-issue carries the whole one.
    expect(text).not.toContain(sub("s1").brief.trim());
  });

  it("says a revised plan will not change again", () => {
    const text = renderPlanProposal({ ...plan, revisions: 1 });
    expect(text).toContain("**Revised plan: 3 sub-issues**");
    expect(text).toContain("I revise a plan only once");
    expect(revisedOnceReply()).toContain("revised this plan once already");
  });

  it("takes only a whole answer of one approval word as approval", () => {
    for (const yes of ["approve", "Approved.", " LGTM ", "ok!", "Yes", "go", "👍", "**approve**"]) expect(isApproval(yes), yes).toBe(true);
    for (const no of ["approve but rename s2", "no", "yes, but split s3", "not ok", "", "go away"]) expect(isApproval(no), no).toBe(false);
  });

  it("writes a self-contained sub-issue description", () => {
    const text = subIssueDescription(sub("s3", ["s1", "s2"]), { parentIdentifier: "ENG-1", dependsOn: ["ENG-2", "ENG-3"] });
    expect(text).toBe(["Brief of s3.", "", "## Acceptance criteria", "", "- s3 works", "", "## Owns", "", "- `src/s3.ts`", "", "Part of ENG-1; depends on ENG-2, ENG-3."].join("\n"));
    expect(subIssueDescription(sub("s1"), { parentIdentifier: "ENG-1", dependsOn: [] })).toContain("Part of ENG-1; depends on no other sub-issue.");
  });
});

describe("blockersFirst", () => {
  const s = (key: string, dependsOn: string[] = []) => ({ key, dependsOn });
  it("orders every blocker before what it blocks, keeping plan order otherwise", () => {
    expect(blockersFirst([s("s4", ["s3"]), s("s3", ["s1", "s2"]), s("s1"), s("s2")])).toEqual(["s1", "s2", "s3", "s4"]);
    expect(blockersFirst([s("s1"), s("s2"), s("s3", ["s1", "s2"]), s("s4", ["s1", "s2"])])).toEqual(["s1", "s2", "s3", "s4"]);
  });
  it("keeps a cycle and unknown keys from losing a sub-issue", () => {
    expect(blockersFirst([s("s1", ["s2"]), s("s2", ["s1"]), s("s3", ["s9"])])).toEqual(["s3", "s1", "s2"]);
  });
});
