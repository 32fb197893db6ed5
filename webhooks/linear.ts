import { createHash } from "node:crypto";
import {
  LINEAR_WEBHOOK_SIGNATURE_HEADER,
  LINEAR_WEBHOOK_TS_HEADER,
  LinearWebhookClient,
  type LinearWebhookPayload,
} from "@linear/sdk/webhooks";
import type { FastifyInstance } from "fastify";
import type { Deps } from "../src/deps.js";
import { accept } from "./accept.js";
import { mapLinearEvent } from "./linear-intents.js";
import { acceptRawBodies, header, isJson, parseJsonOr400, rawBody } from "./raw-body.js";

/**
 * What a Linear event is about, stable across Linear's retries (which are re-signed with a new
 * webhookTimestamp): the entity, the action and the entity's updatedAt.
 */
export function linearDeliveryKey(payload: Record<string, unknown>): string {
  const data = (payload.data ?? {}) as Record<string, unknown>;
  const parts = [payload.type, payload.action, data.id, data.updatedAt ?? payload.createdAt].map(String);
  return createHash("sha256").update(parts.join("\n")).digest("hex").slice(0, 32);
}

/** POST /webhooks/linear: LinearWebhookClient verifies signature and timestamp; map; enqueue; answer. */
export async function linearWebhookRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const secret = deps.config.linear.webhookSecret;
  const client = secret ? new LinearWebhookClient(secret) : undefined;
  acceptRawBodies(app, deps.config.webhookBodyLimitBytes);

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

    // The signed webhookTimestamp bounds replays to Linear's 60-second window.
    const timestamp =
      (payload.webhookTimestamp as number | undefined) ?? header(req, LINEAR_WEBHOOK_TS_HEADER);
    try {
      if (timestamp === undefined) throw new Error("no timestamp");
      client.verify(body, signature, timestamp);
    } catch {
      return reply.code(401).send({ error: "webhook timestamp missing or outside the 60-second window" });
    }

    const deliveryKey = linearDeliveryKey(payload);
    reply.log = req.log.child({
      delivery: deliveryKey,
      event: `${String(payload.type)}.${String(payload.action)}`,
    });
    const ctx = { delivery: deliveryKey, receivedAt: new Date().toISOString() };
    const decision = mapLinearEvent(payload as unknown as LinearWebhookPayload, deps.config.agentLabel, ctx);
    // Linear counts any answer but 200 as a failed delivery and retries it, so accepted is 200 here.
    return accept(deps, reply, { source: "linear", deliveryKey, decision, acceptedStatus: 200 });
  });
}
