import { randomUUID } from "node:crypto";
import {
  AuthenticationLinearError,
  IssueRelationType,
  LinearClient,
  LinearError,
  RatelimitedLinearError,
} from "@linear/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type FakeIssue,
  type FakeTeam,
  type FakeUser,
  type LinearFake,
  startLinearFake,
} from "./linear/index.js";

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

describe("Linear fake: sub-issues and issue relations through the real SDK", () => {
  let fake: LinearFake;
  let client: LinearClient;
  let team: FakeTeam;
  let parent: FakeIssue;
  let agentApp: FakeUser;

  beforeAll(async () => {
    fake = await startLinearFake({ apiKey: "lin_api_test" });
    client = new LinearClient({ apiKey: fake.apiKey, apiUrl: fake.url });
    team = fake.store.seedTeam({ key: "ENG", name: "Engineering" });
    agentApp = fake.store.seedUser({ name: "agent-app" });
    parent = fake.store.seedIssue({ teamId: team.id, title: "Build the importer" });
  });
  afterAll(async () => fake.close());

  /** A sub-issue created as a manager does: its own UUID, parent, team, project, label, delegate, state. */
  async function createChild(title: string, id = randomUUID()) {
    const project = fake.store.projects.values().next().value ?? fake.store.seedProject({ name: "Importer" });
    const label = fake.store.findLabel("agent") ?? fake.store.seedLabel({ name: "agent" });
    const agentUser = agentApp;
    const todo = fake.store.findState(team.id, { name: "Todo" })!;
    const payload = await client.createIssue({
      id,
      title,
      description: `Brief for ${title}`,
      teamId: team.id,
      parentId: parent.identifier,
      projectId: project.id,
      labelIds: [label.id],
      delegateId: agentUser.id,
      stateId: todo.id,
    });
    return { payload, id, project, label, agentUser, todo };
  }

  it("issueCreate honours id, parentId, team, project, labels, delegate, description and state; creator = caller", async () => {
    const { payload, id, project, label, agentUser, todo } = await createChild("Parse the CSV");
    expect(payload.success).toBe(true);
    const child = await client.issue(id);
    expect(child).toMatchObject({ id, title: "Parse the CSV", description: "Brief for Parse the CSV", stateId: todo.id });
    expect(child.identifier).toBe("ENG-2");
    expect((await child.parent)?.id).toBe(parent.id);
    expect((await child.project)?.id).toBe(project.id);
    expect((await child.labels()).nodes.map((l) => l.id)).toEqual([label.id]);
    expect((await child.delegate)?.id).toBe(agentUser.id);
    expect((await child.creator)?.id).toBe(fake.store.viewerId);
    expect((await child.team)?.key).toBe("ENG");
    const children = await (await client.issue(parent.id)).children();
    expect(children.nodes.map((c) => c.id)).toEqual([id]);
    expect(fake.store.childrenOf(parent.id).map((c) => c.id)).toEqual([id]);
  });

  it("refuses an issueCreate whose id exists, like Linear (INVALID_INPUT, 'already exists')", async () => {
    const { id } = await createChild("Write the rows");
    const count = fake.store.issues.size;
    const error = await createChild("Write the rows again", id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LinearError);
    expect((error as LinearError).type).toBe("InvalidInput");
    expect((error as LinearError).message).toMatch(/already exists/);
    expect(fake.store.issues.size).toBe(count);
    expect(fake.store.getIssue(id)?.title).toBe("Write the rows");
  });

  it("an app token creates issues and comments as the app user; a taken comment id is refused", async () => {
    fake.oauth.clientCredentials = true;
    const res = await fetch(fake.url.replace(/\/graphql$/, "/oauth/token"), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "client_credentials", client_id: fake.oauth.clientId, client_secret: fake.oauth.clientSecret, scope: "read,write" }),
    });
    const { access_token: token } = (await res.json()) as { access_token: string };
    const app = new LinearClient({ accessToken: token, apiUrl: fake.url });
    const created = await app.createIssue({ teamId: team.id, title: "Made by the app", parentId: parent.id });
    const issue = fake.store.getIssue((await created.issue)!.id);
    expect(issue?.creatorId).toBe(fake.oauth.appUserId);
    expect(issue?.parentId).toBe(parent.id);
    const commentId = randomUUID();
    await app.createComment({ id: commentId, issueId: parent.id, body: "Plan posted" });
    expect(fake.store.comments.get(commentId)?.userId).toBe(fake.oauth.appUserId);
    const twice = await app.createComment({ id: commentId, issueId: parent.id, body: "again" }).catch((e: unknown) => e);
    expect((twice as LinearError).type).toBe("InvalidInput");
    expect((twice as LinearError).message).toMatch(/A comment with this id already exists/);
    expect(fake.store.comments.get(commentId)?.body).toBe("Plan posted");
  });

  it("issueRelationCreate takes the client's id and identifiers; relations, inverse relations and both ends read back", async () => {
    const a = fake.store.seedIssue({ teamId: team.id, title: "Blocker", parentId: parent.id });
    const b = fake.store.seedIssue({ teamId: team.id, title: "Blocked", parentId: parent.id });
    const id = randomUUID();
    const created = await client.createIssueRelation({ id, issueId: a.identifier, relatedIssueId: b.id, type: IssueRelationType.Blocks });
    expect(created.success).toBe(true);
    const relation = await created.issueRelation;
    expect(relation).toMatchObject({ id, type: "blocks" });
    expect((await relation?.issue)?.id).toBe(a.id);
    expect((await relation?.relatedIssue)?.id).toBe(b.id);

    const blocking = await (await client.issue(a.id)).relations();
    expect(blocking.nodes.map((r) => [r.id, r.type])).toEqual([[id, "blocks"]]);
    const blockedBy = await (await client.issue(b.identifier)).inverseRelations();
    expect(blockedBy.nodes.map((r) => r.issueId)).toEqual([a.id]);
    expect(fake.store.inverseRelationsOf(b.id).map((r) => r.issueId)).toEqual([a.id]);
    expect((await client.issueRelation(id)).relatedIssueId).toBe(b.id);
    expect((await client.issueRelations()).nodes.map((r) => r.id)).toContain(id);
    const blocked = await client.issues({ filter: { hasBlockedByRelations: { eq: true } } });
    expect(blocked.nodes.map((i) => i.id)).toEqual([b.id]);

    const again = await client
      .createIssueRelation({ id, issueId: b.id, relatedIssueId: a.id, type: IssueRelationType.Related })
      .catch((e: unknown) => e);
    expect((again as LinearError).type).toBe("InvalidInput");
    expect((again as LinearError).message).toMatch(/already exists/);
    expect(fake.store.issueRelations.get(id)).toMatchObject({ issueId: a.id, type: "blocks" });

    const self = await client.createIssueRelation({ issueId: a.id, relatedIssueId: a.id, type: IssueRelationType.Blocks }).catch((e: unknown) => e);
    expect((self as LinearError).type).toBe("InvalidInput");
    const unknown = await client.createIssueRelation({ issueId: a.id, relatedIssueId: "ENG-999", type: IssueRelationType.Blocks }).catch((e: unknown) => e);
    expect((unknown as LinearError).message).toContain("Could not find referenced Issue");

    expect((await client.deleteIssueRelation(id)).success).toBe(true);
    expect(fake.store.issueRelations.has(id)).toBe(false);
    expect((await (await client.issue(b.id)).inverseRelations()).nodes).toEqual([]);
  });

  it("answers a raw query of parent, children and relations in one document", async () => {
    const a = fake.store.seedIssue({ teamId: team.id, title: "First", parentId: parent.id });
    const b = fake.store.seedIssue({ teamId: team.id, title: "Second", parentId: parent.id });
    fake.store.addRelation({ issueId: a.id, relatedIssueId: b.identifier, type: "blocks" });
    type Node = { id: string; identifier: string };
    type Rel = { type: string; issue: Node; relatedIssue: Node };
    const res = await client.client.rawRequest<
      { issue: { parent: Node | null; children: { nodes: Array<Node & { parent: Node; inverseRelations: { nodes: Rel[] } }> } } },
      { id: string }
    >(
      `query Tree($id: String!) { issue(id: $id) { parent { id identifier }
        children(first: 50) { nodes { id identifier parent { id identifier }
          inverseRelations { nodes { type issue { id identifier } relatedIssue { id identifier } } } } } } }`,
      { id: parent.identifier },
    );
    const nodes = res.data?.issue.children.nodes ?? [];
    expect(res.data?.issue.parent).toBeNull();
    expect(nodes.map((n) => n.id)).toEqual(fake.store.childrenOf(parent.id).map((c) => c.id));
    expect(nodes.every((n) => n.parent.id === parent.id)).toBe(true);
    const second = nodes.find((n) => n.id === b.id);
    expect(second?.inverseRelations.nodes).toEqual([
      { type: "blocks", issue: { id: a.id, identifier: a.identifier }, relatedIssue: { id: b.id, identifier: b.identifier } },
    ]);
    const sub = await client.issues({ filter: { parent: { id: { eq: parent.id } }, hasBlockingRelations: { eq: true } } });
    expect(sub.nodes.map((i) => i.id)).toEqual([a.id]);
  });
});
