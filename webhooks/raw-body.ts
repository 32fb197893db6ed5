import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/**
 * Makes every body in this plugin scope arrive as the raw Buffer: signatures are computed over the
 * exact bytes, so nothing may parse or re-serialise the body before verification.
 */
export function acceptRawBodies(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit }, (_req, body, done) => done(null, body));
}

/** The request body as bytes (empty when none was sent). */
export function rawBody(req: FastifyRequest): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

/** A single header value, or undefined when absent or repeated. */
export function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

/** Checks the media type after verification; both senders are configured to send JSON. */
export function isJson(req: FastifyRequest): boolean {
  const type = (header(req, "content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  return type === "application/json";
}

/** Parses JSON, answering 400 itself on failure. Returns undefined when it has replied. */
export function parseJsonOr400(body: Buffer | string, reply: FastifyReply): unknown {
  try {
    const value: unknown = JSON.parse(typeof body === "string" ? body : body.toString("utf8"));
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
    reply.code(400).send({ error: "the body must be a JSON object" });
  } catch {
    reply.code(400).send({ error: "the body is not valid JSON" });
  }
  return undefined;
}
