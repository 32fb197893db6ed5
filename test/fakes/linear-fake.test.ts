import { AuthenticationLinearError, LinearClient, LinearError, RatelimitedLinearError } from "@linear/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeIssue, type FakeTeam, type LinearFake, startLinearFake } from "./linear/index.js";

describe("Linear fake driven by the real @linear/sdk", () => {
  let fake: LinearFake;
  let client: LinearClient;
  let team: FakeTeam;
  let labelled: FakeIssue;
  let plain: FakeIssue;
  let agentLabelId: string;

  beforeAll(async () => {
    fake = await startLinearFake({ apiKey: "lin_api_test" });
    client = new LinearClient({ apiKey: fake.apiKey, apiUrl: fake.url });
    team = fake.store.seedTeam({ key: "ENG", name: "Engineering" });
    agentLabelId = fake.store.seedLabel({ name: "agent", teamId: team.id }).id;
    const bug = fake.store.seedLabel({ name: "bug" });
    const project = fake.store.seedProject({ name: "Agents" });
    labelled = fake.store.seedIssue({
      teamId: team.id,
      title: "Add retry to webhook",
      description: "Please add retries.",
      labelIds: [agentLabelId, bug.id],
      projectId: project.id,
    });
    plain = fake.store.seedIssue({ teamId: team.id, title: "Unrelated chore" });
    fake.store.addComment({ issueId: labelled.id, body: "First!" });
  });

  afterAll(async () => {
    await fake.close();
  });

  beforeEach(() => {
    fake.requests.length = 0;
  });

  it("fetches an issue by id and by identifier with its relations", async () => {
    const byId = await client.issue(labelled.id);
    expect(byId.id).toBe(labelled.id);
    expect(byId.identifier).toBe("ENG-1");
    expect(byId.title).toBe("Add retry to webhook");
    expect(byId.description).toBe("Please add retries.");
    expect(byId.url).toBe("https://linear.app/fake/issue/ENG-1/add-retry-to-webhook");
    expect(byId.createdAt).toBeInstanceOf(Date);

    const byIdentifier = await client.issue("ENG-1");
    expect(byIdentifier.id).toBe(labelled.id);
    expect(fake.requests[0]?.operationName).toBe("issue");
    expect(fake.requests[0]?.variables).toEqual({ id: labelled.id });

    const issueTeam = await byId.team;
    expect(issueTeam?.key).toBe("ENG");
    expect(issueTeam?.name).toBe("Engineering");
    const state = await byId.state;
    expect(state?.name).toBe("Backlog");
    expect(state?.type).toBe("backlog");
    const project = await byId.project;
    expect(project?.name).toBe("Agents");

    const labels = await byId.labels();
    expect(labels.nodes.map((l) => l.name).sort()).toEqual(["agent", "bug"]);
    const comments = await byId.comments();
    expect(comments.nodes.map((c) => c.body)).toEqual(["First!"]);
    expect(await comments.nodes[0]?.user).toMatchObject({ id: fake.store.viewerId });

    const viewer = await client.viewer;
    expect(viewer.id).toBe(fake.store.viewerId);
    expect(viewer.isMe).toBe(true);
  });

  it("lists workflow states and paginates", async () => {
    const sdkTeam = await client.team(team.id);
    const states = await sdkTeam.states();
    expect(states.nodes.map((s) => s.name)).toEqual([
      "Triage",
      "Backlog",
      "Todo",
      "In Progress",
      "In Review",
      "Done",
      "Canceled",
    ]);
    const sorted = [...states.nodes].sort((a, b) => a.position - b.position);
    expect(sorted.find((s) => s.type === "started")?.name).toBe("In Progress");
    expect(states.nodes.find((s) => s.name === "In Review")?.type).toBe("started");

    const filtered = await client.workflowStates({
      filter: { team: { id: { eq: team.id } }, type: { eq: "completed" } },
    });
    expect(filtered.nodes.map((s) => s.name)).toEqual(["Done"]);

    const page1 = await client.workflowStates({ first: 3 });
    expect(page1.nodes).toHaveLength(3);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = await client.workflowStates({ first: 10, after: page1.pageInfo.endCursor });
    expect(page2.nodes.map((s) => s.name)).toEqual(["In Progress", "In Review", "Done", "Canceled"]);
    expect(page2.pageInfo.hasNextPage).toBe(false);
  });

  it("updates an issue's state and labels", async () => {
    const review = fake.store.findState(team.id, { name: "In Review" })!;
    const before = fake.store.issues.get(plain.id)!.updatedAt;
    const payload = await client.updateIssue(plain.id, { stateId: review.id, addedLabelIds: [agentLabelId] });
    expect(payload.success).toBe(true);
    expect(payload.lastSyncId).toBeGreaterThan(0);
    const reread = await client.issue(plain.id);
    expect(reread.stateId).toBe(review.id);
    expect(reread.labelIds).toEqual([agentLabelId]);
    expect(reread.startedAt).toBeInstanceOf(Date);
    expect(reread.updatedAt.getTime()).toBeGreaterThan(new Date(before).getTime());
    expect((await payload.issue)?.id).toBe(plain.id);

    await client.updateIssue(plain.id, { removedLabelIds: [agentLabelId] });
    expect(fake.store.issues.get(plain.id)?.labelIds).toEqual([]);
  });

  it("creates then edits a single comment", async () => {
    const created = await client.createComment({ issueId: plain.id, body: "Working on it" });
    const commentId = (await created.comment)!.id;
    await client.updateComment(commentId, { body: "Done: PR opened" });
    const stored = fake.store.commentsFor(plain.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.body).toBe("Done: PR opened");
    expect(stored[0]?.editedAt).not.toBeNull();

    const viaSdk = await client.comments({ filter: { issue: { id: { eq: plain.id } } } });
    expect(viaSdk.nodes.map((c) => c.body)).toEqual(["Done: PR opened"]);
  });

  it("dedups attachments per (issue, url)", async () => {
    const url = "https://github.com/acme/app/pull/7";
    const first = await client.createAttachment({ issueId: plain.id, url, title: "PR #7" });
    const second = await client.createAttachment({ issueId: plain.id, url, title: "PR #7 (updated)" });
    expect((await second.attachment)?.id).toBe((await first.attachment)?.id);
    expect(fake.store.attachmentsFor(plain.id)).toHaveLength(1);
    expect(fake.store.attachmentsFor(plain.id)[0]?.title).toBe("PR #7 (updated)");

    const link1 = await client.attachmentLinkURL(plain.id, "https://example.com/log", { title: "Log" });
    const link2 = await client.attachmentLinkURL(plain.id, "https://example.com/log", { title: "Log v2" });
    expect((await link1.attachment)?.id).toBe((await link2.attachment)?.id);
    expect(fake.store.attachmentsFor(plain.id)).toHaveLength(2);

    const forUrl = await client.attachmentsForURL(url);
    expect(forUrl.nodes.map((a) => a.title)).toEqual(["PR #7 (updated)"]);
    const attachmentIssue = await forUrl.nodes[0]?.issue;
    expect(attachmentIssue?.identifier).toBe(plain.identifier);
  });

  it("filters issues by label name and team", async () => {
    const byLabel = await client.issues({ filter: { labels: { name: { eq: "agent" } } } });
    expect(byLabel.nodes.map((i) => i.identifier)).toEqual(["ENG-1"]);
    const bySome = await client.issues({ filter: { labels: { some: { name: { eq: "bug" } } } } });
    expect(bySome.nodes.map((i) => i.id)).toEqual([labelled.id]);
    const byTeam = await client.issues({ filter: { team: { key: { eq: "ENG" } } } });
    expect(byTeam.nodes).toHaveLength(2);
    const none = await client.issues({ filter: { team: { key: { eq: "NOPE" } } } });
    expect(none.nodes).toEqual([]);
  });

  it("reports unknown ids like Linear", async () => {
    const error = await client.issue("ENG-999").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LinearError);
    expect((error as LinearError).type).toBe("InvalidInput");
    expect((error as LinearError).message).toContain("Could not find referenced Issue");
  });

  it("injects rate limiting and internal errors", async () => {
    fake.failNext(1, "ratelimited");
    const error = await client.issue(labelled.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RatelimitedLinearError);
    expect((error as LinearError).type).toBe("Ratelimited");
    expect((error as LinearError).status).toBe(400);
    const raw = (error as LinearError).raw as {
      response?: { errors?: Array<{ extensions?: { code?: string } }> };
    };
    expect(raw.response?.errors?.[0]?.extensions?.code).toBe("RATELIMITED");
    expect((error as RatelimitedLinearError).requestsRemaining).toBe(0);

    fake.failNext(1, "internal");
    const internal = await client.issue(labelled.id).catch((e: unknown) => e);
    expect((internal as LinearError).type).toBe("InternalError");
    expect((internal as LinearError).status).toBe(500);

    expect((await client.issue(labelled.id)).id).toBe(labelled.id);
    expect(fake.requests).toHaveLength(3);
  });

  it("rejects a wrong api key and accepts Bearer tokens", async () => {
    const bad = new LinearClient({ apiKey: "lin_api_wrong", apiUrl: fake.url });
    const error = await bad.viewer.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationLinearError);
    expect((error as LinearError).type).toBe("AuthenticationError");

    const oauth = new LinearClient({ accessToken: fake.apiKey, apiUrl: fake.url });
    expect((await oauth.organization).urlKey).toBe("fake");
  });

  it("answers invalid documents with HTTP 400 validation errors", async () => {
    const res = await fetch(fake.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: fake.apiKey },
      body: JSON.stringify({ query: "query Nope { issue(id: 1) { notAField } }" }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]?.extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(fake.requests[0]?.operationName).toBe("Nope");
  });
});
