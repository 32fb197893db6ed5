import type { EntityWebhookPayloadWithCommentData, EntityWebhookPayloadWithIssueData } from "@linear/sdk/webhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADA, AGENT_LABEL, linearCommentPayload, linearIssuePayload } from "../../fixtures/linear.js";
import { startWorld, type World } from "../../helpers/world.js";

describe("test world: Comment and Issue webhooks from the Linear fake's state", () => {
  let world: World;

  beforeAll(async () => {
    world = await startWorld({ startWorkers: false });
  });
  afterAll(async () => world.close());

  it("builds Comment payloads typed by the SDK: author, thread, issue", () => {
    const issue = { id: "i-1", identifier: "ENG-1", title: "T", url: "https://linear.app/acme/issue/ENG-1", team: { id: "t", key: "ENG", name: "Eng" } };
    const p = linearCommentPayload("create", { issueId: "i-1", body: "Use v2", parentId: "c-0", issue }) satisfies EntityWebhookPayloadWithCommentData;
    expect(p).toMatchObject({ type: "Comment", action: "create", actor: { id: ADA.id, type: "user" } });
    expect(p.data).toMatchObject({ issueId: "i-1", parentId: "c-0", userId: ADA.id, user: { id: ADA.id }, issue: { identifier: "ENG-1", teamId: "t" } });
    const bot = linearCommentPayload("create", { issueId: "i-1", body: "synced", user: null });
    expect(bot.data.userId).toBeNull();
    expect(bot.actor).toBeUndefined();
  });

  it("builds Issue payloads carrying a parent, labels and the old parent", () => {
    const p = linearIssuePayload("update", { parentId: null, labels: [AGENT_LABEL], updatedFrom: { parentId: "p-1" } }) satisfies EntityWebhookPayloadWithIssueData;
    expect(p.data.parentId).toBeNull();
    expect(p.updatedFrom).toEqual({ parentId: "p-1" });
    const created = linearIssuePayload("create", { parentId: "p-1", labels: [AGENT_LABEL], description: null });
    expect(created.data).toMatchObject({ parentId: "p-1", labelIds: [AGENT_LABEL.id], description: null });
  });

  it("commentOn stores the comment as the seeded human and posts its signed webhook", async () => {
    const issue = world.newIssue({ labels: [] });
    const first = await world.commentOn(issue, "Please use the v2 endpoint.");
    expect(first.status).toBe(200);
    expect(["accepted", "ignored"]).toContain(first.body.status);
    expect(first.comment).toMatchObject({ issueId: issue.id, userId: world.human.id, parentId: null });
    const reply = await world.commentOn(issue, "And keep v1 working.", { parentId: first.comment.id });
    expect(reply.status).toBe(200);
    expect(reply.body.status).not.toBe("duplicate");
    expect(reply.comment.parentId).toBe(first.comment.id);
    const other = world.linear.store.seedUser({ name: "Grace Hopper" });
    const third = await world.commentOn(issue, "Agreed.", { user: other });
    expect(third.comment.userId).toBe(other.id);
    expect(world.linear.store.commentsFor(issue.id).map((c) => c.body)).toEqual([
      "Please use the v2 endpoint.",
      "And keep v1 working.",
      "Agreed.",
    ]);
    expect([...world.linear.store.users.values()].filter((u) => u.name === "Ada Lovelace")).toHaveLength(1);
  });

  it("sendIssueWebhook posts the issue as the fake holds it; each update is its own delivery", async () => {
    const parent = world.newIssue({ title: "Build the importer", labels: [] });
    const child = world.linear.store.seedIssue({
      teamId: world.team.id,
      title: "Parse the CSV",
      parentId: parent.id,
      labelIds: [world.agentLabel.id],
    });
    const created = await world.sendIssueWebhook(child, "create");
    expect(created.status).toBe(200);
    expect(["accepted", "ignored"]).toContain(created.body.status);

    const before = child.updatedAt;
    child.parentId = null;
    const moved = await world.sendIssueWebhook(child, "update", { parentId: parent.id });
    expect(moved.status).toBe(200);
    expect(child.updatedAt > before).toBe(true);
    const again = await world.sendIssueWebhook(child, "update", { parentId: parent.id });
    expect(again.status).toBe(200);
    expect(again.body.status).not.toBe("duplicate");
    expect((await world.sendIssueWebhook(child, "remove")).status).toBe(200);
    expect(child.archivedAt).not.toBeNull();
  });
});
