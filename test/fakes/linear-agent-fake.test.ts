import { LinearClient } from "@linear/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activitiesOf } from "./linear/agent-sessions.js";
import { delegateIssue, mentionAgent, promptSession, undelegateIssue } from "./linear/agent-webhooks.js";
import { type FakeIssue, type LinearFake, startLinearFake } from "./linear/index.js";

describe("Linear fake: the Agent API through the real SDK", () => {
  let fake: LinearFake;
  let client: LinearClient;
  let issue: FakeIssue;
  let sessionId: string;

  beforeAll(async () => {
    fake = await startLinearFake({ apiKey: "lin_api_test" });
    client = new LinearClient({ apiKey: fake.apiKey, apiUrl: fake.url });
    const team = fake.store.seedTeam({ key: "ENG", name: "Engineering" });
    issue = fake.store.seedIssue({ teamId: team.id, title: "Fix the footer" });
    sessionId = delegateIssue(fake.store, { issueId: issue.id }).sessionId;
  });
  afterAll(async () => fake.close());

  const create = (content: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    client.createAgentActivity({ agentSessionId: sessionId, content, ...extra });

  it("delegation sets Issue.delegate (the assignee stays), opens a session with Linear's stub comment", async () => {
    const read = await client.client.rawRequest<{ issue: { delegate: { id: string } | null; assignee: unknown } }, { id: string }>(
      "query($id: String!) { issue(id: $id) { delegate { id } assignee { id } } }",
      { id: issue.id },
    );
    expect(read.data?.issue).toEqual({ delegate: { id: fake.store.viewerId }, assignee: null });
    const session = fake.store.agentSessions.get(sessionId);
    expect(session).toMatchObject({ issueId: issue.id, status: "pending" });
    expect(fake.store.comments.get(session?.commentId as string)?.body).toBe("This thread is for an agent session with agent-workforce.");
    await client.updateIssue(issue.id, { delegateId: null });
    expect(fake.store.getIssue(issue.id)?.delegateId).toBeNull();
    expect(undelegateIssue(fake.store, { issueId: issue.id })).toMatchObject({ type: "AppUserNotification", action: "issueUnassignedFromYou", notification: { issueId: issue.id } });
  });

  it("accepts the documented content shapes and tracks the session's status from the last one", async () => {
    expect((await create({ type: "thought", body: "Looking" })).success).toBe(true);
    expect(fake.store.agentSessions.get(sessionId)?.status).toBe("active");
    await create({ type: "action", action: "Ran checks", parameter: "npm test", result: "passed" });
    await create({ type: "action", action: "Running", parameter: "npm test" }, { ephemeral: true });
    await create({ type: "response", body: "Done" });
    expect(fake.store.agentSessions.get(sessionId)?.status).toBe("complete");
    // A response also lands as a comment under the session's thread.
    const root = fake.store.agentSessions.get(sessionId)?.commentId;
    expect(fake.store.commentsFor(issue.id).filter((c) => c.parentId === root).map((c) => c.body)).toEqual(["Done"]);
  });

  it("rejects what Linear rejects: an agent prompt, an ephemeral response/elicitation/error, missing fields, a duplicate id", async () => {
    await expect(create({ type: "prompt", body: "hi" })).rejects.toThrow(/cannot generate a prompt/);
    for (const type of ["response", "elicitation", "error"]) {
      await expect(create({ type, body: "x" }, { ephemeral: true })).rejects.toThrow(/Only thought and action activities can be ephemeral/);
    }
    await expect(create({ type: "thought" })).rejects.toThrow(/requires a non-empty "body"/);
    await expect(create({ type: "action", action: "Ran" })).rejects.toThrow(/requires a non-empty "parameter"/);
    await expect(create({ type: "shout", body: "x" })).rejects.toThrow(/content.type must be one of/);
    await expect(create({ type: "thought", body: "x" }, { signal: "select" })).rejects.toThrow(/belongs on an elicitation/);
    const id = "0f0e0d0c-0000-4000-8000-000000000001";
    await create({ type: "thought", body: "once" }, { id });
    await expect(create({ type: "thought", body: "twice" }, { id })).rejects.toThrow(/already exists/);
    await expect(client.createAgentActivity({ agentSessionId: "nope", content: { type: "thought", body: "x" } })).rejects.toThrow(/not found/i);
  });

  it("agentSessionUpdate replaces the plan whole, appends external URLs uniquely, and `externalUrls` replaces them", async () => {
    await client.updateAgentSession(sessionId, { plan: [{ content: "Route", status: "inProgress" }] as never });
    await client.updateAgentSession(sessionId, { plan: [{ content: "Route", status: "completed" }, { content: "PR", status: "pending" }] as never });
    const s = fake.store.agentSessions.get(sessionId);
    expect(s?.plan).toEqual([{ content: "Route", status: "completed" }, { content: "PR", status: "pending" }]);
    const pr = { label: "Pull request", url: "https://github.com/acme/widgets/pull/1" };
    await client.updateAgentSession(sessionId, { addedExternalUrls: [pr] });
    await client.updateAgentSession(sessionId, { addedExternalUrls: [pr, { label: "Dashboard", url: "https://aw.example/tasks/1" }] });
    expect(s?.externalLinks.map((l) => l.label)).toEqual(["Pull request", "Dashboard"]);
    await client.updateAgentSession(sessionId, { externalUrls: [pr], addedExternalUrls: [{ label: "ignored", url: "https://x" }] });
    expect(s?.externalLinks).toEqual([pr]);
    const read = await client.client.rawRequest<{ agentSession: { externalLinks: unknown[]; plan: unknown; activities: { nodes: Array<{ content: { __typename: string } }> } } }, { id: string }>(
      "query($id: String!) { agentSession(id: $id) { plan externalLinks { label url } activities { nodes { content { __typename } } } } }",
      { id: sessionId },
    );
    expect(read.data?.agentSession.externalLinks).toEqual([pr]);
    expect(read.data?.agentSession.activities.nodes[0]?.content.__typename).toBe("AgentActivityThoughtContent");
  });

  it("agentSessionCreateOnIssue opens a session on an issue by identifier; mentions and prompts build `created`/`prompted`", async () => {
    const res = await client.agentSessionCreateOnIssue({ issueId: issue.identifier });
    const created = fake.store.agentSessions.get((await res.agentSession)?.id as string);
    expect(created).toMatchObject({ issueId: issue.id, appUserId: fake.store.viewerId });
    const m = mentionAgent(fake.store, { issueId: issue.id, body: "@agent do it", thread: ["It is broken", "Agreed"] });
    expect(m.payload.previousComments?.map((c) => c.body)).toEqual(["It is broken", "Agreed"]);
    const prompted = promptSession(fake.store, { sessionId: m.sessionId, body: "Stop", signal: "stop" });
    expect(prompted.agentActivity).toMatchObject({ signal: "stop", content: { type: "prompt", body: "Stop" } });
    expect(activitiesOf(fake.store, m.sessionId)).toHaveLength(1);
  });
});
