import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLinearClient } from "../../src/linear/client.js";
import { createSubIssue, planUuid, readChildren, relateBlocks } from "../../src/linear/sub-issues.js";
import { type FakeIssue, type FakeIssueLabel, type FakeProject, type FakeTeam, type LinearFake, startLinearFake } from "../fakes/linear/index.js";

let fake: LinearFake;
let team: FakeTeam;
let parent: FakeIssue;
let label: FakeIssueLabel;
let project: FakeProject;
beforeEach(async () => {
  fake = await startLinearFake({ apiKey: "lin_api_sub_issues" });
  team = fake.store.seedTeam({ key: "ENG", name: "Engineering" });
  label = fake.store.seedLabel({ name: "agent" });
  project = fake.store.seedProject({ name: "Widgets" });
  parent = fake.store.seedIssue({ teamId: team.id, title: "Big work" });
});
afterEach(async () => {
  await fake.close();
});

const client = () => createLinearClient({ apiKey: fake.apiKey, apiUrl: fake.url, baseDelayMs: 20 });
const sub = (key: string) => ({
  id: planUuid(parent.id, "2026-12-03T15:00:00.000Z", key),
  parentId: parent.id,
  teamId: team.id,
  projectId: project.id,
  title: `Part ${key}`,
  description: `Brief of ${key}`,
  labelIds: [label.id],
});
const children = () => [...fake.store.issues.values()].filter((i) => i.parentId === parent.id);

describe("planUuid", () => {
  it("derives the same v4-formatted id from the same parent, plan and part, another from any other", () => {
    const a = planUuid("p", "2026-12-03T15:00:00.000Z", "s1");
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(planUuid("p", "2026-12-03T15:00:00.000Z", "s1")).toBe(a);
    expect(new Set([a, planUuid("p", "2026-12-03T15:00:00.000Z", "s2"), planUuid("q", "2026-12-03T15:00:00.000Z", "s1"), planUuid("p", "2026-12-03T15:00:01.000Z", "s1")]).size).toBe(4);
  });
});

describe("createSubIssue", () => {
  it("creates the sub-issue under the parent, in its team and project, labelled, under the id given", async () => {
    const created = await createSubIssue(client(), sub("s1"));
    const stored = fake.store.getIssue(created.id);
    expect(created.id).toBe(sub("s1").id);
    expect(created.identifier).toBe(stored?.identifier);
    expect(stored).toMatchObject({ parentId: parent.id, teamId: team.id, projectId: project.id, labelIds: [label.id], title: "Part s1", description: "Brief of s1" });
  });

  it("a retry finds the sub-issue an earlier attempt created instead of creating a second", async () => {
    const first = await createSubIssue(client(), sub("s1"));
    fake.requests.length = 0;
    const again = await createSubIssue(client(), sub("s1"));
    expect(again).toEqual(first);
    expect(children()).toHaveLength(1);
    expect(fake.requests.map((r) => r.operationName)).toEqual(["AgentCreateSubIssue", "AgentSubIssue"]);
  });

  it("a create whose answer was lost (a 500 after Linear stored it) is read back, not repeated", async () => {
    fake.beforeAnswer = async (op) => {
      if (op === "AgentCreateSubIssue") throw new Error("connection reset");
    };
    // The fake answers 500 for an error thrown while answering; the issue exists already.
    const created = await createSubIssue(client(), sub("s2")).finally(() => {
      fake.beforeAnswer = undefined;
    });
    expect(created.id).toBe(sub("s2").id);
    expect(children()).toHaveLength(1);
  });

  it("another refusal stands, saying what to fix", async () => {
    await expect(createSubIssue(client(), { ...sub("s3"), teamId: "no-such-team" })).rejects.toThrow(/refused to create the sub-issue "Part s3"/);
    expect(children()).toHaveLength(0);
  });
});

describe("relateBlocks and readChildren", () => {
  it("records blocks relations once, however often it is asked, and reads them back with the children", async () => {
    const linear = client();
    const [a, b, c] = [await createSubIssue(linear, sub("s1")), await createSubIssue(linear, sub("s2")), await createSubIssue(linear, sub("s3"))];
    const rel = (x: string, y: string) => planUuid(parent.id, "2026-12-03T15:00:00.000Z", `blocks:${x}>${y}`);
    await relateBlocks(linear, { id: rel("s1", "s3"), blockerId: a.id, blockedId: c.id });
    await relateBlocks(linear, { id: rel("s1", "s3"), blockerId: a.id, blockedId: c.id });
    await relateBlocks(linear, { id: rel("s2", "s3"), blockerId: b.id, blockedId: c.id });
    expect([...fake.store.issueRelations.values()].map((r) => [r.issueId, r.type, r.relatedIssueId])).toEqual([
      [a.id, "blocks", c.id],
      [b.id, "blocks", c.id],
    ]);

    fake.requests.length = 0;
    const kids = await readChildren(linear, parent.id);
    expect(fake.requests).toHaveLength(1);
    expect(kids.map((k) => k.identifier).sort()).toEqual([a.identifier, b.identifier, c.identifier].sort());
    const third = kids.find((k) => k.id === c.id);
    expect(third?.labelNames).toEqual(["agent"]);
    expect(third?.state.type).toBeTruthy();
    expect(third?.relations.map((r) => [r.issueId, r.relatedIssueId]).sort()).toEqual([
      [a.id, c.id],
      [b.id, c.id],
    ].sort());
    expect(kids.find((k) => k.id === a.id)?.relations.map((r) => r.relatedIssueId)).toEqual([c.id]);
  });
});
