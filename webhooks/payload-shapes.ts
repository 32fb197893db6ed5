import { z } from "zod";

// Only the fields the mappers read are checked; everything else passes through untouched. A
// correctly signed body that lacks them gets a 400 naming the field, never a 500. GitHub's
// payloads are large and frequent, so they are checked by path rather than parsed into copies.

type Kind = "string" | "number" | "string?" | "number?" | "object" | "object?" | "boolean?";

const USER: Record<string, Kind> = { user: "object?", "user.login": "string?" };
const COMMENT = (at: string): Record<string, Kind> => ({
  [`${at}.id`]: "number",
  [`${at}.html_url`]: "string",
  [`${at}.author_association`]: "string",
  [`${at}.body`]: "string?",
  ...Object.fromEntries(Object.entries(USER).map(([k, v]) => [`${at}.${k}`, v])),
});
const REPOSITORY: Record<string, Kind> = { "repository.name": "string", "repository.owner.login": "string" };

/** The fields each GitHub event acted on must carry, by event name. */
export const GITHUB_SHAPES: Record<string, Record<string, Kind>> = {
  issue_comment: { ...REPOSITORY, "issue.number": "number", "issue.pull_request": "object?", ...COMMENT("comment") },
  pull_request_review: { ...REPOSITORY, "pull_request.number": "number", ...COMMENT("review"), "review.state": "string" },
  pull_request_review_comment: {
    ...REPOSITORY,
    "pull_request.number": "number",
    ...COMMENT("comment"),
    "comment.path": "string",
    "comment.diff_hunk": "string",
    "comment.line": "number?",
    "comment.original_line": "number?",
    "comment.in_reply_to_id": "number?",
    "comment.pull_request_review_id": "number?",
  },
  pull_request: {
    ...REPOSITORY,
    "pull_request.number": "number",
    "pull_request.head.ref": "string",
    "pull_request.html_url": "string",
    "pull_request.merged": "boolean?",
    "pull_request.closed_at": "string?",
    sender: "object?",
  },
};

/** Checks a payload against a path spec; returns the first problem ("issue.number: expected number") or null. */
export function checkShape(payload: unknown, spec: Record<string, Kind>): string | null {
  for (const [path, kind] of Object.entries(spec)) {
    let value: unknown = payload;
    for (const part of path.split(".")) {
      value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
    }
    const optional = kind.endsWith("?");
    if (value === undefined || value === null) {
      if (optional) continue;
      return `${path}: missing`;
    }
    const want = kind.replace("?", "");
    const actual = typeof value;
    if (want === "number" ? !Number.isInteger(value) : actual !== want || Array.isArray(value)) {
      return `${path}: expected ${want}, got ${Array.isArray(value) ? "array" : actual}`;
    }
  }
  return null;
}

/** The Linear Issue event fields the mapper reads. */
export const LINEAR_ISSUE_SHAPE = z.object({
  type: z.literal("Issue"),
  action: z.string(),
  createdAt: z.string().optional(),
  url: z.string().nullable().optional(),
  updatedFrom: z.record(z.string(), z.unknown()).nullable().optional(),
  actor: z.object({ name: z.string().optional() }).nullable().optional(),
  data: z.object({
    id: z.string(),
    identifier: z.string(),
    title: z.string(),
    updatedAt: z.string().optional(),
    url: z.string().nullable().optional(),
    teamId: z.string().nullable().optional(),
    team: z.object({ id: z.string(), key: z.string() }).nullable().optional(),
    project: z.object({ name: z.string() }).nullable().optional(),
    state: z.object({ type: z.string() }).nullable().optional(),
    labelIds: z.array(z.string()).optional(),
    labels: z.array(z.object({ id: z.string(), name: z.string() })).optional(),
  }),
});

/** The AgentSessionEvent fields the mapper reads (SDK: AgentSessionEventWebhookPayload). */
export const LINEAR_AGENT_SESSION_SHAPE = z.object({
  type: z.literal("AgentSessionEvent"),
  action: z.string(),
  organizationId: z.string(),
  agentSession: z.object({
    id: z.string(),
    createdAt: z.string(),
    issueId: z.string().nullable().optional(),
    issue: z.object({ id: z.string(), identifier: z.string(), title: z.string() }).nullable().optional(),
  }),
  agentActivity: z.object({ id: z.string(), createdAt: z.string(), content: z.record(z.string(), z.unknown()), signal: z.string().nullable().optional() }).nullable().optional(),
  guidance: z.array(z.object({ body: z.string() })).nullable().optional(),
  previousComments: z.array(z.object({ body: z.string() })).nullable().optional(),
  promptContext: z.string().nullable().optional(),
});

// An ISO timestamp: job ids and eventAt derive from it, so a missing or unreadable one is a 400.
const TIMESTAMP = z.string().refine((v) => !Number.isNaN(Date.parse(v)), { message: "expected an ISO timestamp" });

/** The AppUserNotification fields the mapper reads; `createdAt` goes into the cancel job's id. */
export const LINEAR_APP_NOTIFICATION_SHAPE = z.object({
  type: z.literal("AppUserNotification"),
  action: z.string(),
  createdAt: TIMESTAMP,
  notification: z.object({ id: z.string(), issueId: z.string().optional(), createdAt: TIMESTAMP.optional() }),
});

/** The OAuthApp fields the mapper reads; `createdAt` dates the revocation and keys its delivery. */
export const LINEAR_OAUTH_APP_SHAPE = z.object({
  type: z.literal("OAuthApp"),
  action: z.string(),
  organizationId: z.string().optional(),
  oauthClientId: z.string().optional(),
  createdAt: TIMESTAMP,
});

/** A zod failure as one line: "issue.number: Invalid input: expected number, received string". */
export function describeShapeError(prefix: string, error: z.ZodError): string {
  const first = error.issues[0];
  return `${prefix}: ${first ? `${first.path.join(".") || "(body)"}: ${first.message}` : "invalid"}`;
}
