import { createHmac, randomUUID } from "node:crypto";
import { agentSessionCreated, agentSessionPrompted, type AgentSessionEventBody, issueUnassignedFromYou, type SessionIssue } from "../../fixtures/linear-agent.js";
import { addPrompt, openSession } from "./agent-sessions.js";
import type { LinearStore } from "./store.js";

/**
 * What Linear does, and the webhook it sends, when a person works with the agent in the fake
 * workspace: delegate an issue, @mention the agent, write in (or Stop) a session, un-delegate.
 * The app user is the API key's user unless given.
 */

function sessionIssue(store: LinearStore, issueId: string): SessionIssue {
  const issue = store.getIssue(issueId);
  if (!issue) throw new Error(`unknown issue ${issueId}`);
  const team = store.teams.get(issue.teamId);
  if (!team) throw new Error(`issue ${issue.identifier} has no team`);
  return { id: issue.id, identifier: issue.identifier, title: issue.title, description: issue.description, url: issue.url, team: { id: team.id, key: team.key, name: team.name } };
}

function promptContextOf(issue: SessionIssue, thread: string[]): string {
  const comments = thread.map((c) => `<comment>${c}</comment>`).join("");
  return `<issue identifier="${issue.identifier}"><title>${issue.title}</title><description>${issue.description ?? ""}</description></issue>${comments ? `<primary-directive-thread>${comments}</primary-directive-thread>` : ""}`;
}

/** Delegation: the agent becomes the issue's delegate; Linear opens a session with a stub comment and sends `created`. */
export function delegateIssue(store: LinearStore, p: { issueId: string; appUserId?: string; guidance?: Array<{ body: string; team?: boolean }> }): { sessionId: string; payload: AgentSessionEventBody } {
  const appUserId = p.appUserId ?? store.viewerId;
  const issue = sessionIssue(store, p.issueId);
  const stored = store.getIssue(issue.id)!;
  stored.delegateId = appUserId;
  store.touch(stored);
  const stub = store.addComment({ issueId: issue.id, body: "This thread is for an agent session with agent-workforce.", userId: null });
  const session = openSession(store, { issueId: issue.id, appUserId, commentId: stub.id });
  const payload = agentSessionCreated({
    sessionId: session.id,
    issue,
    createdAt: session.createdAt,
    commentId: stub.id,
    organizationId: store.organization.id,
    appUserId,
    guidance: p.guidance,
    promptContext: promptContextOf(issue, []),
  });
  return { sessionId: session.id, payload };
}

/** An @mention of the agent, in a reply to a thread when `thread` is given (its earlier comments). */
export function mentionAgent(store: LinearStore, p: { issueId: string; body: string; thread?: string[]; appUserId?: string }): { sessionId: string; payload: AgentSessionEventBody } {
  const appUserId = p.appUserId ?? store.viewerId;
  const issue = sessionIssue(store, p.issueId);
  const thread = p.thread ?? [];
  const root = thread.length ? store.addComment({ issueId: issue.id, body: thread[0] as string, userId: null }) : null;
  for (const body of thread.slice(1)) store.addComment({ issueId: issue.id, body, userId: null, parentId: root?.id ?? null });
  const mention = store.addComment({ issueId: issue.id, body: p.body, userId: null, parentId: root?.id ?? null });
  const session = openSession(store, { issueId: issue.id, appUserId, commentId: mention.id });
  const payload = agentSessionCreated({
    sessionId: session.id,
    issue,
    createdAt: session.createdAt,
    commentId: mention.id,
    organizationId: store.organization.id,
    appUserId,
    mention: { body: p.body, ...(thread.length ? { previousComments: thread } : {}) },
    promptContext: promptContextOf(issue, [...thread, p.body]),
  });
  return { sessionId: session.id, payload };
}

/** A human's message in a session, or Stop: Linear records a prompt activity and sends `prompted`. */
export function promptSession(store: LinearStore, p: { sessionId: string; body: string; signal?: "stop"; userId?: string }): AgentSessionEventBody {
  const session = store.agentSessions.get(p.sessionId);
  if (!session) throw new Error(`unknown session ${p.sessionId}`);
  const userId = p.userId ?? randomUUID();
  const activity = addPrompt(store, { sessionId: session.id, userId, body: p.body, signal: p.signal ?? null });
  return agentSessionPrompted({
    sessionId: session.id,
    body: p.body,
    signal: p.signal ?? null,
    issue: sessionIssue(store, session.issueId),
    activityId: activity.id,
    activityCreatedAt: activity.createdAt,
    organizationId: store.organization.id,
    appUserId: session.appUserId,
  });
}

/** "No agent": the delegate is removed; Linear notifies the app with `issueUnassignedFromYou`. */
export function undelegateIssue(store: LinearStore, p: { issueId: string; appUserId?: string }) {
  const issue = sessionIssue(store, p.issueId);
  const stored = store.getIssue(issue.id)!;
  stored.delegateId = null;
  store.touch(stored);
  return issueUnassignedFromYou({ issue, organizationId: store.organization.id, appUserId: p.appUserId ?? store.viewerId });
}

/** A webhook body and headers exactly as Linear signs them (hex HMAC-SHA256 of the bytes sent). */
export function signedLinearWebhook(secret: string, payload: { type: string }): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "linear-delivery": randomUUID(),
      "linear-event": payload.type,
      "linear-signature": createHmac("sha256", secret).update(body).digest("hex"),
      "user-agent": "Linear-Webhook",
    },
  };
}
