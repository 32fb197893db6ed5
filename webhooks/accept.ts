import type { FastifyReply } from "fastify";
import type { Deps } from "../src/deps.js";
import { noteWebhookOutcome } from "../src/metrics/registry.js";
import { withTimeout } from "../src/redis.js";
import { claimDelivery, recordDelivery, releaseDelivery } from "./deliveries.js";
import { enqueueIntent, planJob } from "./enqueue.js";
import type { Decision } from "./intents.js";

/** Redis gets this long per delivery; senders retry a 503, they would only time out on a hang. */
const REDIS_BUDGET_MS = 800;

/**
 * Turns a mapped webhook into an answer: ignored events get 200 with the reason; an intent is
 * enqueued once per delivery; Redis trouble answers 503 quickly so the sender retries.
 */
export async function accept(
  deps: Deps,
  reply: FastifyReply,
  p: { source: "github" | "linear"; deliveryKey: string; decision: Decision; acceptedStatus: 200 | 202 },
): Promise<FastifyReply> {
  const log = reply.log;
  if (!p.decision.act) {
    log.info({ reason: p.decision.reason }, "webhook ignored");
    noteWebhookOutcome(reply.request, "ignored");
    return reply.code(200).send({ status: "ignored", reason: p.decision.reason });
  }
  const intent = p.decision.intent;
  const { redis, config } = deps;
  const enqueueOnce = async (): Promise<{ code: number; body: Record<string, unknown> }> => {
    const plan = planJob(intent);
    // The delivery marker and the job go to Redis together, in one round trip. That is safe
    // because the job id derives from the delivery's subject and finished jobs are kept longer
    // than markers: a redelivery's add is always a no-op on the job the first one created.
    const [claim, added] = await Promise.allSettled([
      claimDelivery(redis, config.redisPrefix, p.source, p.deliveryKey, plan.jobId),
      enqueueIntent(deps.queues, intent, plan),
    ]);
    if (claim.status === "fulfilled" && !claim.value.first) {
      log.info({ jobId: claim.value.jobId }, "duplicate delivery");
      return { code: 200, body: { status: "duplicate", jobId: claim.value.jobId } };
    }
    if (claim.status === "rejected" || added.status === "rejected") {
      if (claim.status === "fulfilled") {
        await releaseDelivery(redis, config.redisPrefix, p.source, p.deliveryKey).catch(() => undefined);
      }
      throw claim.status === "rejected" ? claim.reason : (added as PromiseRejectedResult).reason;
    }
    const { jobId, merged } = added.value;
    if (merged) await recordDelivery(redis, config.redisPrefix, p.source, p.deliveryKey, jobId);
    log.info({ intent: intent.kind, jobId, merged }, "webhook accepted");
    return { code: p.acceptedStatus, body: { status: "accepted", intent: intent.kind, jobId, merged } };
  };
  try {
    const { code, body } = await withTimeout(enqueueOnce(), REDIS_BUDGET_MS, "Redis did not accept the job");
    noteWebhookOutcome(reply.request, body.status === "duplicate" ? "duplicate" : "accepted");
    return reply.code(code).send(body);
  } catch (err) {
    log.error(
      { err: (err as Error).message, intent: intent.kind },
      "could not enqueue webhook; answering 503",
    );
    return reply
      .code(503)
      .header("retry-after", "30")
      .send({ status: "unavailable", error: "the job queue (Redis) is unavailable; retry later" });
  }
}
