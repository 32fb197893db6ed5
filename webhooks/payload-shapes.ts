import { z } from "zod";

// The Linear payload fields the mappers read (the GitHub ones are in github-shapes.ts). Only
// validated: the route hands the mappers the body it parsed, typed by @linear/sdk.

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
