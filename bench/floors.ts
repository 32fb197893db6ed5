// The two "floor" routes of the benchmark: the least a durable BullMQ ingest must do, with and
// without the signature check, over the same real modules the app uses. They place the app's
// figure between what the protocol and the queue cost on their own and what the app adds.
import { Webhooks } from "@octokit/webhooks";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { Deps } from "../src/deps.js";
import { claimDelivery } from "../webhooks/deliveries.js";
import { enqueueIntent, planJob } from "../webhooks/enqueue.js";
import { mapGitHubEvent, narrowGitHubEvent } from "../webhooks/github-intents.js";

/** Maps, claims the delivery and adds the job: no logging, no timeouts, no metrics. */
async function enqueueOnly(deps: Deps, delivery: string, payload: unknown, reply: FastifyReply) {
  const event = narrowGitHubEvent("issue_comment", payload);
  const decision = "name" in event ? mapGitHubEvent(event, { delivery, receivedAt: new Date().toISOString() }) : null;
  if (!decision?.act) return reply.code(400).send({ error: "not an issue_comment.created on a PR" });
  const plan = planJob(decision.intent);
  const [claim, added] = await Promise.all([
    claimDelivery(deps.redis, deps.config.redisPrefix, "github", delivery, plan.jobId),
    enqueueIntent(deps.queues, decision.intent, plan),
  ]);
  return reply.code(202).send({ status: claim.first ? "accepted" : "duplicate", jobId: added.jobId });
}

/**
 * POST /floor: Fastify's own JSON parsing, then map + claim + add.
 * POST /floor-verified/: the raw body, verified with `@octokit/webhooks`, parsed, then the same.
 */
export async function floorRoutes(app: FastifyInstance, opts: { deps: Deps; secret: string }): Promise<void> {
  const { deps } = opts;
  const webhooks = new Webhooks({ secret: opts.secret });
  const delivery = (headers: Record<string, unknown>) => String(headers["x-github-delivery"]);

  app.post("/floor", async (req, reply) => enqueueOnly(deps, delivery(req.headers), req.body, reply));

  await app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
    raw.post("/floor-verified", async (req, reply) => {
      const text = (req.body as Buffer).toString("utf8");
      const valid = await webhooks.verify(text, String(req.headers["x-hub-signature-256"]));
      if (!valid) return reply.code(401).send({ error: "bad signature" });
      return enqueueOnly(deps, delivery(req.headers), JSON.parse(text), reply);
    });
  });
}
