import { createHash } from "node:crypto";
import {
  LINEAR_WEBHOOK_SIGNATURE_HEADER,
  LinearWebhookClient,
  type LinearWebhookPayload,
  type OAuthAppWebhookPayload,
} from "@linear/sdk/webhooks";
import type { FastifyInstance } from "fastify";
import type { Deps } from "../src/deps.js";
import { accept } from "./accept.js";
import { mapLinearEvent } from "./linear-intents.js";
import { mapOAuthAppEvent } from "./oauth-app-intents.js";
import { describeShapeError, LINEAR_AGENT_SESSION_SHAPE, LINEAR_APP_NOTIFICATION_SHAPE, LINEAR_ISSUE_SHAPE, LINEAR_OAUTH_APP_SHAPE } from "./payload-shapes.js";
import { acceptRawBodies, header, isJson, parseJsonOr400, rawBody } from "./raw-body.js";
import { bindDeliveryToLogs } from "./request-logger.js";

/** Linear's replay window for webhookTimestamp. */
const WINDOW_MS = 60_000;

/**
 * What a Linear event is about, stable across Linear's retries (which are re-signed with a new
 * webhookTimestamp): the entity, the action and the entity's updatedAt.
 */
export function linearDeliveryKey(payload: Record<string, unknown>): string {
  const data = (payload.data ?? {}) as Record<string, unknown>;
  const parts = [payload.type, payload.action, ...subjectOf(payload, data)].map(String);
  return createHash("sha256").update(parts.join("\n")).digest("hex").slice(0, 32);
}

// Agent events carry no `data`: a session event is about its session and activity, a
// notification about itself.
function subjectOf(payload: Record<string, unknown>, data: Record<string, unknown>): unknown[] {
  if (payload.type === "AgentSessionEvent") {
    const session = (payload.agentSession ?? {}) as Record<string, unknown>;
    const activity = (payload.agentActivity ?? {}) as Record<string, unknown>;
    return [session.id, activity.id ?? ""];
  }
  if (payload.type === "OAuthApp") return [payload.organizationId, payload.createdAt];
  if (payload.type === "AppUserNotification") return [((payload.notification ?? {}) as Record<string, unknown>).id];
  return [data.id, data.updatedAt ?? payload.createdAt];
}

const SHAPES = {
  Issue: ["Linear Issue payload", LINEAR_ISSUE_SHAPE],
  AgentSessionEvent: ["Linear AgentSessionEvent payload", LINEAR_AGENT_SESSION_SHAPE],
  AppUserNotification: ["Linear AppUserNotification payload", LINEAR_APP_NOTIFICATION_SHAPE],
  OAuthApp: ["Linear OAuthApp payload", LINEAR_OAUTH_APP_SHAPE],
} as const;

/** POST /webhooks/linear: LinearWebhookClient verifies signature and timestamp; map; enqueue; answer. */
export async function linearWebhookRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const secret = deps.config.linear.webhookSecret;
  const client = secret ? new LinearWebhookClient(secret) : undefined;
  acceptRawBodies(app, deps.config.webhookBodyLimitBytes);
  bindDeliveryToLogs(app, { delivery: "linear-delivery", event: "linear-event" });

  app.post("/webhooks/linear", async (req, reply) => {
    if (!client)
      return reply.code(503).send({ error: "LINEAR_WEBHOOK_SECRET is not configured on this server" });
    const signature = header(req, LINEAR_WEBHOOK_SIGNATURE_HEADER);
    if (!signature) return reply.code(401).send({ error: "missing Linear-Signature header" });
    const body = rawBody(req);
    try {
      // Signature first, over the raw bytes, before anything is parsed.
      client.verify(body, signature);
    } catch {
      return reply.code(401).send({ error: "signature does not match the webhook signing secret" });
    }
    if (!isJson(req))
      return reply.code(415).send({ error: "Linear webhooks must be sent as application/json" });
    const payload = parseJsonOr400(body, reply) as Record<string, unknown> | undefined;
    if (payload === undefined) return reply;

    // The signed webhookTimestamp bounds replays to Linear's 60-second window. Only the signed
    // body counts (the linear-timestamp header is not signed), and it must be a real number. The
    // window is checked here rather than by a second `client.verify(..., timestamp)`: that would
    // compute the HMAC again, and the SDK skips the check for 0 and parses strings.
    const timestamp = payload.webhookTimestamp;
    const fresh = typeof timestamp === "number" && Number.isFinite(timestamp) && Math.abs(Date.now() - timestamp) <= WINDOW_MS;
    if (!fresh) return reply.code(401).send({ error: "webhook timestamp missing or outside the 60-second window" });
    const known = SHAPES[String(payload.type) as keyof typeof SHAPES];
    if (known) {
      const shape = known[1].safeParse(payload);
      if (!shape.success) return reply.code(400).send({ error: describeShapeError(known[0], shape.error) });
    }

    const deliveryKey = linearDeliveryKey(payload);
    // Linear re-signs each retry, so the subject key (not the Linear-Delivery header) dedupes.
    reply.log = req.log.child({ deliveryKey, action: `${String(payload.type)}.${String(payload.action)}` });
    const ctx = { delivery: deliveryKey, receivedAt: new Date().toISOString() };
    const decision = payload.type === "OAuthApp" ? mapOAuthAppEvent(payload as unknown as OAuthAppWebhookPayload, ctx, deps.config.linear.app?.clientId) : mapLinearEvent(payload as unknown as LinearWebhookPayload, deps.config.agentLabel, ctx);
    // Linear counts any answer but 200 as a failed delivery and retries it, so accepted is 200 here.
    return accept(deps, reply, { source: "linear", deliveryKey, decision, acceptedStatus: 200 });
  });
}
