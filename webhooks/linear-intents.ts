import type { EntityWebhookPayloadWithIssueData, LinearWebhookPayload } from "@linear/sdk/webhooks";
import { type AgentSessionEvent, type AppUserNotification, mapAgentSessionEvent, mapAppUserNotification } from "./agent-session-intents.js";
import { type CommentEvent, mapCommentEvent } from "./comment-intents.js";
import { type Decision, type DeliveryContext, ignore } from "./intents.js";

type IssuePayload = EntityWebhookPayloadWithIssueData;

const CLOSED_STATES: Record<string, "issue-canceled" | "issue-completed"> = {
  canceled: "issue-canceled",
  completed: "issue-completed",
};

/** Maps a verified Linear webhook body to an intent. Pure: no I/O, no clock. */
export function mapLinearEvent(
  payload: LinearWebhookPayload,
  agentLabel: string,
  ctx: DeliveryContext,
): Decision {
  if (payload.type === "AgentSessionEvent") return mapAgentSessionEvent(payload as AgentSessionEvent, ctx);
  if (payload.type === "AppUserNotification") return mapAppUserNotification(payload as AppUserNotification, ctx);
  if (payload.type === "Comment") return mapCommentEvent(payload as CommentEvent, ctx);
  if (payload.type !== "Issue") return ignore(`Linear ${payload.type} events are not acted on`);
  const p = payload as IssuePayload;
  if (!p.data || typeof p.data.id !== "string") return ignore("Issue event without issue data");
  const label = findLabel(p, agentLabel);

  if (p.action === "create") {
    return label ? implement(p, ctx) : (subIssueChanged(p, ctx) ?? ignore(`issue created without the "${agentLabel}" label`));
  }
  if (p.action === "remove") {
    return label ? cancel(p, "issue-canceled", ctx) : (subIssueChanged(p, ctx) ?? ignore("removed issue had no agent label"));
  }
  if (p.action !== "update") return ignore(`Issue action "${p.action}" is not acted on`);

  const before = previousValues(p);
  if (before.labelIds) {
    if (label && !before.labelIds.includes(label.id)) return implement(p, ctx);
    const current = new Set(labelIds(p));
    const removed = before.labelIds.some((id) => !current.has(id));
    // Webhooks give only label ids for the old value, so any removal while the agent label is
    // absent may be ours; the worker ignores a cancel for an issue no agent works on.
    if (!label && removed) return cancel(p, "label-removed", ctx);
  }
  if (label && typeof before.stateId === "string") {
    const closed = CLOSED_STATES[p.data.state?.type ?? ""];
    if (closed) return cancel(p, closed, ctx);
  }
  return (
    subIssueChanged(p, ctx) ??
    ignore(label ? "issue update does not change the agent's work" : `issue has no "${agentLabel}" label`)
  );
}

// What of a sub-issue its parent's roll-up shows: which parent, its state, its title.
const TREE_FIELDS = ["parentId", "stateId", "title"];

/**
 * A sub-issue created, removed, moved between parents, renamed or moved to another state: a tick of
 * its parent (and of the parent it left), which reads the sub-issues from Linear. A labelled
 * sub-issue's cancel or removal goes the cancel way instead; the cancel ticks its parent.
 */
function subIssueChanged(p: IssuePayload, ctx: DeliveryContext): Decision | null {
  const from = (p.updatedFrom ?? {}) as Record<string, unknown>;
  if (p.action === "update" && !TREE_FIELDS.some((f) => f in from)) return null;
  const now = (p.data as { parentId?: unknown }).parentId;
  const parentNow = typeof now === "string" && now ? now : null;
  const parentBefore = "parentId" in from ? (typeof from.parentId === "string" && from.parentId ? from.parentId : null) : parentNow;
  const parentIssueId = parentNow ?? parentBefore;
  if (!parentIssueId) return null;
  const moved = parentBefore && parentNow && parentBefore !== parentNow ? { otherParentIssueId: parentBefore } : {};
  const what = p.action === "update" ? TREE_FIELDS.filter((f) => f in from).join(",") : p.action;
  return {
    act: true,
    intent: {
      kind: "tree-tick",
      data: { kind: "tick", parentIssueId, reason: `Linear ${p.data.identifier} ${what} ${p.data.updatedAt ?? ctx.delivery}`, linear: true, ...moved },
    },
  };
}

function findLabel(p: IssuePayload, name: string) {
  const wanted = name.toLowerCase();
  return (p.data.labels ?? []).find((l) => l.name.toLowerCase() === wanted);
}

function labelIds(p: IssuePayload): string[] {
  return p.data.labelIds ?? (p.data.labels ?? []).map((l) => l.id);
}

function previousValues(p: IssuePayload): { labelIds?: string[]; stateId?: unknown } {
  const from = (p.updatedFrom ?? {}) as Record<string, unknown>;
  const ids = Array.isArray(from.labelIds)
    ? from.labelIds.filter((x): x is string => typeof x === "string")
    : undefined;
  return { labelIds: ids, stateId: from.stateId };
}

function actorName(p: IssuePayload): string | null {
  const a = p.actor as { name?: unknown } | undefined | null;
  return a && typeof a.name === "string" ? a.name : null;
}

function implement(p: IssuePayload, ctx: DeliveryContext): Decision {
  return {
    act: true,
    intent: {
      kind: "implement",
      data: {
        kind: "implement",
        issueId: p.data.id,
        identifier: p.data.identifier,
        title: p.data.title,
        teamId: p.data.teamId ?? p.data.team?.id ?? null,
        teamKey: p.data.team?.key ?? null,
        projectName: p.data.project?.name ?? null,
        labelNames: (p.data.labels ?? []).map((l) => l.name),
        url: p.data.url ?? p.url ?? null,
        eventAt: p.data.updatedAt ?? p.createdAt,
        source: { ...ctx, actor: actorName(p) },
        ...(typeof p.organizationId === "string" && p.organizationId ? { organizationId: p.organizationId } : {}),
      },
    },
  };
}

function cancel(
  p: IssuePayload,
  reason: "label-removed" | "issue-canceled" | "issue-completed",
  ctx: DeliveryContext,
): Decision {
  return {
    act: true,
    intent: {
      kind: "cancel",
      data: {
        kind: "cancel",
        issueId: p.data.id,
        identifier: p.data.identifier,
        reason,
        eventAt: p.data.updatedAt ?? p.createdAt,
        source: { ...ctx, actor: actorName(p) },
      },
    },
  };
}
