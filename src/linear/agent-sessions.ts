import { createHash } from "node:crypto";
import type { LinearClient } from "@linear/sdk";

/** Activity content as Linear documents it (agent-interaction): what an agent may post. */
export type ActivityContent =
  | { type: "thought"; body: string }
  | { type: "action"; action: string; parameter: string; result?: string }
  | { type: "elicitation"; body: string }
  | { type: "response"; body: string }
  | { type: "error"; body: string };

/** One step of a session's plan; the plan is always replaced whole. */
export interface PlanStep {
  content: string;
  status: "pending" | "inProgress" | "completed" | "canceled";
}

/**
 * A uuid (v4-shaped) derived from the session and what the activity is about: a retry posts the
 * same id, which Linear refuses as a duplicate instead of showing the activity twice.
 */
export function activityId(sessionId: string, key: string): string {
  const h = createHash("sha256").update(`${sessionId}\n${key}`).digest("hex");
  const variant = ((Number.parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Posts an activity to a session under an id derived from `key`; posting the same key again is
 * a no-op (Linear refuses the duplicate id, which counts as done).
 */
export async function postActivity(
  linear: LinearClient,
  p: { sessionId: string; key: string; content: ActivityContent; ephemeral?: boolean; signal?: "select"; signalMetadata?: Record<string, unknown> },
): Promise<void> {
  try {
    await linear.createAgentActivity({
      id: activityId(p.sessionId, p.key),
      agentSessionId: p.sessionId,
      content: p.content,
      ...(p.ephemeral ? { ephemeral: true } : {}),
      ...(p.signal ? { signal: p.signal as never, signalMetadata: p.signalMetadata } : {}),
    });
  } catch (err) {
    if (/already exists|duplicate/i.test((err as Error).message ?? "")) return;
    throw new Error(`could not post a ${p.content.type} to Linear agent session ${p.sessionId}`, { cause: err });
  }
}

/** Replaces the session's plan and/or adds external URLs (unique by url) to it. */
export async function updateSession(
  linear: LinearClient,
  p: { sessionId: string; plan?: PlanStep[]; addedExternalUrls?: Array<{ label: string; url: string }> },
): Promise<void> {
  try {
    await linear.updateAgentSession(p.sessionId, {
      // Linear documents the plan as an array; the schema types it JSONObject (an untyped input).
      ...(p.plan ? { plan: p.plan as unknown as Record<string, unknown> } : {}),
      ...(p.addedExternalUrls ? { addedExternalUrls: p.addedExternalUrls } : {}),
    });
  } catch (err) {
    throw new Error(`could not update Linear agent session ${p.sessionId}`, { cause: err });
  }
}

/**
 * Opens a session of the app on an issue (`agentSessionCreateOnIssue`), for work Linear did not
 * start through a session (the label path); returns its id. Linear takes no client-chosen id, so
 * the caller records the id at once and never calls this twice for one task.
 */
export async function openIssueSession(linear: LinearClient, p: { issueId: string }): Promise<string> {
  let id: string | undefined;
  try {
    id = (await linear.agentSessionCreateOnIssue({ issueId: p.issueId })).agentSessionId;
  } catch (err) {
    throw new Error(`could not open a Linear agent session on issue ${p.issueId}`, { cause: err });
  }
  if (!id) throw new Error(`Linear opened no agent session on issue ${p.issueId}`);
  return id;
}
