import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger };

// Secrets must never reach a log line, whichever object carries them.
const SECRET_FIELDS = ["token", "apiKey", "webhookSecret", "privateKey", "jwt", "password", "clientSecret"];
const REDACT = [
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`]),
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-hub-signature-256"]',
  'req.headers["linear-signature"]',
  "headers.authorization",
  // An Octokit RequestError carries its request's headers (err.request.headers, a job's err.request...).
  "*.headers.authorization",
  "*.*.headers.authorization",
];

/** A URL with the values of secret-looking query parameters (the dashboard's ?token=, an OAuth ?code=) masked. */
export function maskQuery(url: string): string {
  return url.replace(/([?&](?:token|access_token|refresh_token|api_key|key|secret|client_secret|code)=)[^&#]*/gi, "$1[redacted]");
}

/** Fastify's request shape as logged: no headers, and the query's secrets masked. */
function serializeRequest(req: { method?: string; url?: string; hostname?: string; ip?: string; socket?: { remotePort?: number } }) {
  return { method: req.method, url: maskQuery(req.url ?? ""), hostname: req.hostname, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

/** Builds the root pino logger; components derive child loggers carrying job or delivery ids. */
export function createLogger(opts: { level: string; name?: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      name: opts.name ?? "agent-workforce",
      level: opts.level,
      redact: { paths: REDACT, censor: "[redacted]" },
      serializers: { req: serializeRequest },
    },
    opts.destination,
  );
}
