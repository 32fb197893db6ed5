import { randomUUID } from "node:crypto";
import type { Resolver } from "./defaults.js";
import { invalidInput, notFound } from "./errors.js";
import type { LinearStore } from "./store.js";

/**
 * Linear's Agent API in the fake (developer preview, @linear/sdk 88.3.0 schema; see
 * shared/protocols/linear-agents.md): sessions on issues, activities with the content shapes
 * Linear documents and validates, plan and external URLs replaced as Linear does.
 */

export type SessionStatus = "pending" | "active" | "awaitingInput" | "complete" | "error" | "stale";

export type FakeAgentSession = {
  id: string;
  issueId: string;
  appUserId: string;
  creatorId: string | null;
  /** The root comment of the session's thread. */
  commentId: string | null;
  status: SessionStatus;
  plan: unknown;
  externalLinks: Array<{ label: string; url: string }>;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  endedAt: string | null;
  archivedAt: string | null;
};

export type FakeAgentActivity = {
  id: string;
  agentSessionId: string;
  /** Who wrote it: the app user for agent activities, a person for prompts. */
  userId: string;
  content: Record<string, unknown>;
  ephemeral: boolean;
  signal: string | null;
  signalMetadata: Record<string, unknown> | null;
  sourceCommentId: string | null;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
};

const TYPENAME: Record<string, string> = {
  thought: "AgentActivityThoughtContent",
  action: "AgentActivityActionContent",
  elicitation: "AgentActivityElicitationContent",
  response: "AgentActivityResponseContent",
  error: "AgentActivityErrorContent",
  prompt: "AgentActivityPromptContent",
};
const STATUS_AFTER: Record<string, SessionStatus> = { thought: "active", action: "active", elicitation: "awaitingInput", response: "complete", error: "error" };
const SIGNALS = ["auth", "continue", "select", "stop"];

/** Linear's documented content shapes for an agent's activity; throws INVALID_INPUT as Linear rejects them. */
export function validateAgentContent(content: unknown, ephemeral: boolean, signal: string | null): void {
  if (!content || typeof content !== "object" || Array.isArray(content)) throw invalidInput("content must be an object");
  const c = content as Record<string, unknown>;
  const type = c.type;
  if (type === "prompt") throw invalidInput("An agent cannot generate a prompt type activity");
  if (typeof type !== "string" || !STATUS_AFTER[type]) throw invalidInput(`content.type must be one of thought, action, elicitation, response, error (got ${String(type)})`);
  const need = type === "action" ? ["action", "parameter"] : ["body"];
  for (const field of need) {
    if (typeof c[field] !== "string" || (c[field] as string).length === 0) throw invalidInput(`${type} content requires a non-empty "${field}"`);
  }
  if (type === "action" && c.result !== undefined && c.result !== null && typeof c.result !== "string") throw invalidInput('action content "result" must be a string');
  if (ephemeral && type !== "thought" && type !== "action") throw invalidInput(`Only thought and action activities can be ephemeral, not ${type}`);
  if (signal !== null && !SIGNALS.includes(signal)) throw invalidInput(`Unknown signal ${signal}`);
  if ((signal === "auth" || signal === "select") && type !== "elicitation") throw invalidInput(`The ${signal} signal belongs on an elicitation`);
}

/** A session on an issue, as Linear opens it on delegation, @mention or `agentSessionCreateOnIssue`. */
export function openSession(store: LinearStore, p: { issueId: string; appUserId: string; creatorId?: string | null; commentId?: string | null; externalLinks?: Array<{ label: string; url: string }> }): FakeAgentSession {
  const issue = store.getIssue(p.issueId);
  if (!issue) throw notFound("Issue");
  const now = store.now();
  const session: FakeAgentSession = {
    id: randomUUID(),
    issueId: issue.id,
    appUserId: p.appUserId,
    creatorId: p.creatorId ?? null,
    commentId: p.commentId ?? null,
    status: "pending",
    plan: null,
    externalLinks: uniqueLinks(p.externalLinks ?? []),
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    endedAt: null,
    archivedAt: null,
  };
  store.agentSessions.set(session.id, session);
  return session;
}

/** Records a human's prompt in a session (a reply, an answer, or Stop), as Linear does before `prompted`. */
export function addPrompt(store: LinearStore, p: { sessionId: string; userId: string; body: string; signal?: "stop" | null; sourceCommentId?: string | null }): FakeAgentActivity {
  const session = requireSession(store, p.sessionId);
  const now = store.now();
  const activity: FakeAgentActivity = {
    id: randomUUID(),
    agentSessionId: session.id,
    userId: p.userId,
    content: { type: "prompt", body: p.body },
    ephemeral: false,
    signal: p.signal ?? null,
    signalMetadata: null,
    sourceCommentId: p.sourceCommentId ?? null,
    createdAt: now,
    updatedAt: now,
    archivedAt: null,
  };
  store.agentActivities.set(activity.id, activity);
  return activity;
}

/** The activities of a session in order, ephemeral ones replaced by the next as Linear shows them. */
export function activitiesOf(store: LinearStore, sessionId: string, opts: { includeReplaced?: boolean } = {}): FakeAgentActivity[] {
  const all = [...store.agentActivities.values()].filter((a) => a.agentSessionId === sessionId);
  if (opts.includeReplaced) return all;
  return all.filter((a, i) => !a.ephemeral || i === all.length - 1);
}

function requireSession(store: LinearStore, id: unknown): FakeAgentSession {
  const session = typeof id === "string" ? store.agentSessions.get(id) : undefined;
  if (!session) throw notFound("AgentSession");
  return session;
}

function uniqueLinks(links: Array<{ label: string; url: string }>): Array<{ label: string; url: string }> {
  const seen = new Set<string>();
  return links.filter((l) => (seen.has(l.url) ? false : (seen.add(l.url), true))).map((l) => ({ label: l.label, url: l.url }));
}

const links = (v: unknown): Array<{ label: string; url: string }> =>
  Array.isArray(v) ? v.map((l) => ({ label: String((l as { label: unknown }).label), url: String((l as { url: unknown }).url) })) : [];

const payload = (store: LinearStore, key: string, entity: unknown) => ({ success: true, lastSyncId: store.nextSyncId(), [key]: entity });

/** Mutation resolvers of the Agent API. */
export const agentMutationResolvers: Record<string, Resolver> = {
  agentActivityCreate: (_s, { input }, ctx) => {
    const { store } = ctx;
    const i = input as Record<string, unknown>;
    const session = requireSession(store, i.agentSessionId);
    const id = typeof i.id === "string" ? i.id : randomUUID();
    if (store.agentActivities.has(id)) throw invalidInput(`An agent activity with id ${id} already exists`);
    const ephemeral = i.ephemeral === true;
    const signal = typeof i.signal === "string" ? i.signal : null;
    validateAgentContent(i.content, ephemeral, signal);
    const content = i.content as Record<string, unknown>;
    const now = store.now();
    const activity: FakeAgentActivity = {
      id,
      agentSessionId: session.id,
      userId: (ctx as { viewerId?: string }).viewerId ?? session.appUserId,
      content,
      ephemeral,
      signal,
      signalMetadata: (i.signalMetadata as Record<string, unknown> | undefined) ?? null,
      sourceCommentId: null,
      createdAt: now,
      updatedAt: now,
      archivedAt: null,
    };
    store.agentActivities.set(id, activity);
    session.status = STATUS_AFTER[String(content.type)] as SessionStatus;
    session.startedAt ??= now;
    session.endedAt = session.status === "complete" || session.status === "error" ? now : null;
    store.touch(session);
    // "We will automatically create a comment under the comment thread as well."
    if (["response", "elicitation", "error"].includes(String(content.type))) {
      store.addComment({ issueId: session.issueId, body: String(content.body), userId: session.appUserId, parentId: session.commentId });
    }
    return payload(store, "agentActivity", activity);
  },
  agentSessionUpdate: (_s, { id, input }, { store }) => {
    const session = requireSession(store, id);
    const i = input as Record<string, unknown>;
    if (i.plan !== undefined) session.plan = i.plan;
    if (i.externalUrls !== undefined && i.externalUrls !== null) session.externalLinks = uniqueLinks(links(i.externalUrls));
    else {
      const removed = Array.isArray(i.removedExternalUrls) ? i.removedExternalUrls.map(String) : [];
      session.externalLinks = uniqueLinks([...session.externalLinks.filter((l) => !removed.includes(l.url)), ...links(i.addedExternalUrls)]);
    }
    store.touch(session);
    return payload(store, "agentSession", session);
  },
  agentSessionCreateOnIssue: (_s, { input }, ctx) => {
    const i = input as Record<string, unknown>;
    const appUserId = (ctx as { viewerId?: string }).viewerId ?? ctx.store.viewerId;
    const issue = ctx.store.getIssue(String(i.issueId));
    if (!issue) throw notFound("Issue");
    // Like a delegation's: a thread with Linear's stub root comment, under which closing activities echo.
    const stub = ctx.store.addComment({ issueId: issue.id, body: "This thread is for an agent session with agent-workforce.", userId: null });
    const session = openSession(ctx.store, { issueId: issue.id, appUserId, commentId: stub.id, externalLinks: links(i.externalUrls) });
    return payload(ctx.store, "agentSession", session);
  },
};

/** Object-field resolvers: the content union, and the deprecated `externalUrls` JSON. */
export const agentTypeResolvers: Record<string, Record<string, Resolver>> = {
  AgentActivity: {
    content: (a) => {
      const content = a.content as Record<string, unknown>;
      return { __typename: TYPENAME[String(content.type)], ...content };
    },
  },
  AgentSession: { externalUrls: (s) => s.externalLinks },
};

/** Query resolvers: `agentSession(id)`, `agentActivity(id)`. */
export const agentQueryResolvers: Record<string, Resolver> = {
  agentSession: (_s, { id }, { store }) => requireSession(store, id),
  agentActivity: (_s, { id }, { store }) => {
    const a = typeof id === "string" ? store.agentActivities.get(id) : undefined;
    if (!a) throw notFound("AgentActivity");
    return a;
  },
};
