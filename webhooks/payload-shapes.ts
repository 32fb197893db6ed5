import { z } from "zod";

// Only the fields the mappers read are checked; everything else passes through untouched. A
// correctly signed body that lacks them gets a 400 naming the field, never a 500.
const user = z.object({ login: z.string(), type: z.string().optional() }).nullable();
const repository = z.object({ name: z.string(), owner: z.object({ login: z.string() }) });
const comment = z.object({
  id: z.number().int(),
  body: z.string().nullable().optional(),
  html_url: z.string(),
  user,
  author_association: z.string(),
});

/** Shapes of the GitHub events acted on, by event name. */
export const GITHUB_SHAPES: Record<string, z.ZodType> = {
  issue_comment: z.object({
    repository,
    issue: z.object({ number: z.number().int(), pull_request: z.unknown().optional() }),
    comment,
  }),
  pull_request_review: z.object({
    repository,
    pull_request: z.object({ number: z.number().int() }),
    review: comment.extend({ state: z.string() }),
  }),
  pull_request_review_comment: z.object({
    repository,
    pull_request: z.object({ number: z.number().int() }),
    comment: comment.extend({
      path: z.string(),
      line: z.number().int().nullable().optional(),
      original_line: z.number().int().nullable().optional(),
      diff_hunk: z.string(),
      in_reply_to_id: z.number().int().nullable().optional(),
      pull_request_review_id: z.number().int().nullable().optional(),
    }),
  }),
  pull_request: z.object({
    repository,
    pull_request: z.object({
      number: z.number().int(),
      merged: z.boolean().nullable().optional(),
      head: z.object({ ref: z.string() }),
      html_url: z.string(),
      closed_at: z.string().nullable().optional(),
    }),
    sender: z.object({ login: z.string() }).nullable().optional(),
  }),
};

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

/** A zod failure as one line: "issue.number: Invalid input: expected number, received string". */
export function describeShapeError(prefix: string, error: z.ZodError): string {
  const first = error.issues[0];
  return `${prefix}: ${first ? `${first.path.join(".") || "(body)"}: ${first.message}` : "invalid"}`;
}
