import { describe, expect, it } from "vitest";
import { planJob } from "../../webhooks/enqueue.js";
import { linearDeliveryKey } from "../../webhooks/linear.js";
import { mapLinearEvent } from "../../webhooks/linear-intents.js";
import { agentSessionCreated, agentSessionPrompted, issueUnassignedFromYou, JANE } from "../fixtures/linear-agent.js";

const ctx = { delivery: "d-1", receivedAt: "2026-11-21T00:00:00.000Z" };
// The SDK's LinearWebhookPayload union, as the route hands it over.
const map = (p: unknown) => mapLinearEvent(p as Parameters<typeof mapLinearEvent>[0], "agent", ctx);

describe("AgentSessionEvent → intents", () => {
  it("a delegation's `created` implements the session's issue, carrying the session, Linear's context and guidance", () => {
    const p = agentSessionCreated({
      sessionId: "sess-1",
      createdAt: "2026-11-21T10:15:01.900Z",
      promptContext: "<issue identifier=\"ENG-123\">…</issue>",
      guidance: [{ body: "Workspace rule" }, { body: "Team rule", team: true }],
    });
    const d = map(p);
    if (!d.act || d.intent.kind !== "implement") throw new Error("expected implement");
    expect(d.intent.data).toMatchObject({
      issueId: p.agentSession.issue?.id,
      identifier: "ENG-123",
      title: "Fix accessibility on checkout page",
      teamKey: "ENG",
      eventAt: "2026-11-21T10:15:01.900Z",
      source: { delivery: "d-1", actor: JANE.name },
      session: {
        id: "sess-1",
        organizationId: p.organizationId,
        promptContext: "<issue identifier=\"ENG-123\">…</issue>",
        guidance: ["Team rule", "Workspace rule"],
        previousComments: [],
        comment: "This thread is for an agent session with agent-workforce.",
        followUp: null,
      },
    });
  });

  it("an @mention inside a thread carries the thread's earlier comments and the mention", () => {
    const p = agentSessionCreated({ mention: { body: "@agent please fix this", previousComments: ["It breaks on Safari", "Same for me"] } });
    const d = map(p);
    if (!d.act || d.intent.kind !== "implement") throw new Error("expected implement");
    expect(d.intent.data.session).toMatchObject({ previousComments: ["It breaks on Safari", "Same for me"], comment: "@agent please fix this" });
  });

  it("`prompted` is feedback for the issue's task, with the message from agentActivity.content.body", () => {
    const p = agentSessionPrompted({ sessionId: "sess-1", body: "Use the acme/web repo", activityId: "act-5" });
    const d = map(p);
    if (!d.act || d.intent.kind !== "feedback" || d.intent.data.kind !== "session-feedback") throw new Error("expected session feedback");
    expect(d.intent.data).toMatchObject({ issueId: p.agentSession.issueId, session: { id: "sess-1", organizationId: p.organizationId }, activityId: "act-5", body: "Use the acme/web repo", author: JANE.name });
  });

  it("`prompted` with the stop signal is a cancel of the issue's work", () => {
    const p = agentSessionPrompted({ sessionId: "sess-1", body: "Stop", signal: "stop", activityCreatedAt: "2026-11-21T10:31:39.950Z" });
    const d = map(p);
    if (!d.act || d.intent.kind !== "cancel") throw new Error("expected cancel");
    expect(d.intent.data).toMatchObject({ issueId: p.agentSession.issueId, reason: "stop-requested", eventAt: "2026-11-21T10:31:39.950Z" });
  });

  it("ignores, with a reason, what is not work: an empty message, an unknown action, a session on no issue", () => {
    expect(map(agentSessionPrompted({ sessionId: "s", body: "  " }))).toEqual({ act: false, reason: "prompted event without a message" });
    expect(map({ ...agentSessionCreated(), action: "dismissed" })).toEqual({ act: false, reason: 'AgentSessionEvent action "dismissed" is not acted on' });
    const noIssue = agentSessionCreated();
    noIssue.agentSession = { ...noIssue.agentSession, issue: null, issueId: null };
    expect(map(noIssue)).toEqual({ act: false, reason: "agent session is not on an issue" });
  });

  it("`issueUnassignedFromYou` cancels the issue's work; other notifications are ignored", () => {
    const p = issueUnassignedFromYou({ createdAt: "2026-11-21T11:00:00.000Z" });
    const d = map(p);
    if (!d.act || d.intent.kind !== "cancel") throw new Error("expected cancel");
    expect(d.intent.data).toMatchObject({ issueId: p.notification.issueId, identifier: "ENG-123", reason: "delegate-removed" });
    expect(map({ ...p, action: "issueMention" })).toEqual({ act: false, reason: 'AppUserNotification "issueMention" is not acted on' });
  });

  it("a redelivered `created` or `prompted` (re-signed, new webhookTimestamp) keeps its delivery key and job id", () => {
    const created = agentSessionCreated({ sessionId: "sess-9" });
    const again = { ...created, webhookTimestamp: created.webhookTimestamp + 60_000, webhookId: "other" };
    expect(linearDeliveryKey(again as never)).toBe(linearDeliveryKey(created as never));
    const [a, b] = [map(created), map(again)];
    if (!a.act || !b.act) throw new Error("expected intents");
    expect(planJob(a.intent).jobId).toBe(planJob(b.intent).jobId);
    expect(planJob(a.intent)).toMatchObject({ queue: "implement", opts: { deduplication: { id: `implement-${created.agentSession.issue?.id}` } } });

    const prompted = agentSessionPrompted({ sessionId: "sess-9", body: "also fix the footer", activityId: "act-1" });
    const p = map(prompted);
    const p2 = map({ ...prompted, webhookTimestamp: prompted.webhookTimestamp + 5 });
    if (!p.act || !p2.act) throw new Error("expected intents");
    expect(planJob(p.intent)).toEqual(planJob(p2.intent));
    expect(planJob(p.intent)).toMatchObject({ queue: "feedback", jobId: "session-feedback-sess-9-act-1" });
    const other = agentSessionPrompted({ sessionId: "sess-9", body: "and the header", activityId: "act-2" });
    expect(linearDeliveryKey(other as never)).not.toBe(linearDeliveryKey(prompted as never));
  });
});
