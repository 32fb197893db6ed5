import type { FastifyInstance } from "fastify";

/**
 * Makes the one child logger Fastify creates per request in this plugin scope carry the sender's
 * delivery and event headers, so every line about a webhook names its delivery without a second
 * child per request on the ingest hot path. The values are unverified and only ever logged.
 */
export function bindDeliveryToLogs(app: FastifyInstance, headers: { delivery: string; event: string }): void {
  app.setChildLoggerFactory((logger, bindings, opts, rawReq) => {
    const delivery = rawReq.headers[headers.delivery];
    const event = rawReq.headers[headers.event];
    return logger.child(
      {
        ...bindings,
        ...(typeof delivery === "string" ? { delivery } : {}),
        ...(typeof event === "string" ? { event } : {}),
      },
      opts,
    );
  });
}
