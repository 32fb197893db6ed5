import type { AgentSessionEventWebhookPayload, AppUserNotificationWebhookPayloadWithNotification } from "@linear/sdk/webhooks";
import type { SessionJobRef } from "../jobs/queues.js";
import { type Decision, type DeliveryContext, ignore } from "./intents.js";

/** An agent session event as the route hands it over (the SDK types `type` as a plain string). */
export type AgentSessionEvent = AgentSessionEventWebhookPayload & { type: "AgentSessionEvent" };
/** An app user notification (Inbox notifications category). */
export type AppUserNotification = AppUserNotificationWebhookPayloadWithNotification;

/** Longest `promptContext` carried in job data; Linear's rendering of a long thread can be large. */
const MAX_PROMPT_CONTEXT = 30_000;

/**
 * Maps an AgentSessionEvent to the label path's intents. Pure: `created` → implement the
 * session's issue (with Linear's prompt context); `prompted` → feedback for the issue's task, or
 * a cancel when the human pressed Stop.
 */
export function mapAgentSessionEvent(p: AgentSessionEvent, ctx: DeliveryContext): Decision {
  const s = p.agentSession;
  const issueId = s.issue?.id ?? s.issueId ?? null;
  if (!issueId) return ignore("agent session is not on an issue");
  if (p.action === "created") {
    if (!s.issue) return ignore("created session without its issue");
    const issue = s.issue;
    const session: SessionJobRef = {
      id: s.id,
      organizationId: p.organizationId,
      createdAt: s.createdAt,
      promptContext: p.promptContext ? p.promptContext.slice(0, MAX_PROMPT_CONTEXT) : null,
      guidance: guidanceOf(p),
      previousComments: (p.previousComments ?? []).map((c) => c.body),
      comment: s.comment?.body ?? null,
      followUp: null,
    };
    return {
      act: true,
      intent: {
        kind: "implement",
        data: {
          kind: "implement",
          issueId: issue.id,
          identifier: issue.identifier,
          title: issue.title,
          teamId: issue.teamId ?? issue.team?.id ?? null,
          teamKey: issue.team?.key ?? null,
          projectName: null,
          labelNames: [],
          url: issue.url ?? s.url ?? null,
          // The session's creation time: a redelivery maps to the same job.
          eventAt: s.createdAt,
          source: { ...ctx, actor: s.creator?.name ?? null },
          session,
        },
      },
    };
  }
  if (p.action !== "prompted") return ignore(`AgentSessionEvent action "${p.action}" is not acted on`);
  const a = p.agentActivity;
  if (!a) return ignore("prompted event without its activity");
  const identifier = s.issue?.identifier ?? issueId;
  const actor = a.user?.name ?? null;
  if (a.signal === "stop") {
    return {
      act: true,
      intent: {
        kind: "cancel",
        data: { kind: "cancel", issueId, identifier, reason: "stop-requested", eventAt: a.createdAt, source: { ...ctx, actor } },
      },
    };
  }
  const content = (a.content ?? {}) as { body?: unknown };
  const body = typeof content.body === "string" ? content.body.trim() : "";
  if (!body) return ignore("prompted event without a message");
  return {
    act: true,
    intent: {
      kind: "feedback",
      data: {
        kind: "session-feedback",
        issueId,
        identifier,
        title: s.issue?.title ?? identifier,
        url: s.issue?.url ?? s.url ?? null,
        session: { id: s.id, organizationId: p.organizationId, createdAt: s.createdAt },
        activityId: a.id,
        body,
        author: actor,
        createdAt: a.createdAt,
        source: ctx,
      },
    },
  };
}

/** Maps an app user notification: the agent removed as the issue's delegate stops its work. */
export function mapAppUserNotification(p: AppUserNotification, ctx: DeliveryContext): Decision {
  if (p.action !== "issueUnassignedFromYou") return ignore(`AppUserNotification "${p.action}" is not acted on`);
  const n = p.notification as { issueId?: string; issue?: { identifier?: string }; createdAt?: string; actor?: { name?: string } | null };
  if (typeof n.issueId !== "string") return ignore("notification without its issue");
  return {
    act: true,
    intent: {
      kind: "cancel",
      data: {
        kind: "cancel",
        issueId: n.issueId,
        identifier: n.issue?.identifier ?? n.issueId,
        reason: "delegate-removed",
        // The route's shape check guarantees the payload's createdAt, so no id says "undefined".
        eventAt: n.createdAt ?? (typeof p.createdAt === "string" ? p.createdAt : new Date(p.createdAt).toISOString()),
        source: { ...ctx, actor: n.actor?.name ?? null },
      },
    },
  };
}

// The nearest guidance wins, so team rules come before the workspace's.
function guidanceOf(p: AgentSessionEvent): string[] {
  const rules = p.guidance ?? [];
  const rank = (r: (typeof rules)[number]) => ((r.origin as { type?: string } | undefined)?.type === "Team" ? 0 : 1);
  return [...rules].sort((a, b) => rank(a) - rank(b)).map((r) => r.body);
}
