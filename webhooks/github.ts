import { Webhooks } from "@octokit/webhooks";
import type { FastifyInstance } from "fastify";
import type { Deps } from "../src/deps.js";
import { accept } from "./accept.js";
import { mapGitHubEvent, narrowGitHubEvent } from "./github-intents.js";
import { isInstallationEvent, narrowInstallationEvent, summarizeInstallationEvent } from "./installation-events.js";
import { acceptRawBodies, header, isJson, parseJsonOr400, rawBody } from "./raw-body.js";
import { bindDeliveryToLogs } from "./request-logger.js";

/** POST /webhooks/github: verify X-Hub-Signature-256 on the raw body, map, enqueue, answer. */
export async function githubWebhookRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const secret = deps.config.github.webhookSecret;
  const webhooks = secret ? new Webhooks({ secret }) : undefined;
  acceptRawBodies(app, deps.config.webhookBodyLimitBytes);
  bindDeliveryToLogs(app, { delivery: "x-github-delivery", event: "x-github-event" });

  app.post("/webhooks/github", async (req, reply) => {
    if (!webhooks) {
      return reply.code(503).send({ error: "GITHUB_WEBHOOK_SECRET is not configured on this server" });
    }
    const signature = header(req, "x-hub-signature-256");
    const body = rawBody(req);
    if (!signature) return reply.code(401).send({ error: "missing X-Hub-Signature-256 header" });
    // Decoded once: the signature is checked on this text and then the same text is parsed.
    const text = body.toString("utf8");
    let valid: boolean;
    try {
      valid = body.length > 0 && (await webhooks.verify(text, signature));
    } catch {
      valid = false;
    }
    if (!valid) return reply.code(401).send({ error: "signature does not match the webhook secret" });

    const event = header(req, "x-github-event");
    const delivery = header(req, "x-github-delivery");
    if (!event || !delivery) {
      return reply.code(400).send({ error: "missing X-GitHub-Event or X-GitHub-Delivery header" });
    }
    if (!isJson(req)) {
      return reply.code(415).send({ error: "set the GitHub webhook's content type to application/json" });
    }
    const payload = parseJsonOr400(text, reply);
    if (payload === undefined) return reply;
    if (event === "ping") return reply.code(200).send({ status: "ok", reason: "pong" });
    if (isInstallationEvent(event)) {
      // Logged for the operator and acknowledged; installations are looked up when a job needs one.
      const installation = narrowInstallationEvent(event, payload);
      if ("invalid" in installation) return reply.code(400).send({ error: installation.invalid });
      const summary = summarizeInstallationEvent(installation);
      reply.log.info(summary, "GitHub App installation changed");
      return reply.code(200).send({ status: "acknowledged", event, action: summary.action });
    }

    const narrowed = narrowGitHubEvent(event, payload);
    const ctx = { delivery, receivedAt: new Date().toISOString() };
    if ("invalid" in narrowed) return reply.code(400).send({ error: narrowed.invalid });
    const decision =
      "reason" in narrowed ? { act: false as const, reason: narrowed.reason } : mapGitHubEvent(narrowed, ctx);
    return accept(deps, reply, { source: "github", deliveryKey: delivery, decision, acceptedStatus: 202 });
  });
}
