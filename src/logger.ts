import { type Logger, pino } from "pino";

export type { Logger };

// Secrets must never reach a log line, whichever object carries them.
const REDACT = [
  "token",
  "apiKey",
  "webhookSecret",
  "*.token",
  "*.apiKey",
  "*.webhookSecret",
  "*.*.token",
  "*.*.apiKey",
  "*.*.webhookSecret",
  "req.headers.authorization",
  'req.headers["x-hub-signature-256"]',
  'req.headers["linear-signature"]',
  "headers.authorization",
];

/** Builds the root pino logger; components derive child loggers carrying job or delivery ids. */
export function createLogger(opts: { level: string; name?: string }): Logger {
  return pino({
    name: opts.name ?? "agent-workforce",
    level: opts.level,
    redact: { paths: REDACT, censor: "[redacted]" },
  });
}
