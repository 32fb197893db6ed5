import { z } from "zod";

// Zod schemas for the fields the GitHub mappers read, and nothing else: parsing returns a small
// typed object (unknown keys are dropped), so a mapper cannot read a field that was not checked,
// and a correctly signed body that lacks one gets a 400 naming it, never a 500.

const REPOSITORY = z.object({ name: z.string(), owner: z.object({ login: z.string() }) });
// An App's webhooks name the installation that sent them; a token's webhooks do not.
const INSTALLATION_REF = z.object({ id: z.int() }).nullish();
const USER = z.object({ login: z.string().optional(), type: z.string().optional() }).nullish();

// What a conversation comment, a review and an inline comment share (the author and the words).
const COMMENT_FIELDS = {
  id: z.int(),
  html_url: z.string(),
  author_association: z.string(),
  body: z.string().nullish(),
  user: USER,
};

/** `issue_comment.created`: a comment on an issue or (with `issue.pull_request`) on a PR. */
export const ISSUE_COMMENT = z.object({
  repository: REPOSITORY,
  installation: INSTALLATION_REF,
  issue: z.object({ number: z.int(), pull_request: z.object({}).nullish() }),
  comment: z.object(COMMENT_FIELDS),
});

/** `pull_request_review.submitted`. */
export const REVIEW = z.object({
  repository: REPOSITORY,
  installation: INSTALLATION_REF,
  pull_request: z.object({ number: z.int() }),
  review: z.object({ ...COMMENT_FIELDS, state: z.string() }),
});

/** `pull_request_review_comment.created`: an inline comment on the diff. */
export const REVIEW_COMMENT = z.object({
  repository: REPOSITORY,
  installation: INSTALLATION_REF,
  pull_request: z.object({ number: z.int() }),
  comment: z.object({
    ...COMMENT_FIELDS,
    path: z.string(),
    diff_hunk: z.string(),
    line: z.int().nullish(),
    original_line: z.int().nullish(),
    in_reply_to_id: z.int().nullish(),
    pull_request_review_id: z.int().nullish(),
  }),
});

/** `pull_request.closed`, merged or not. */
export const PULL_REQUEST_CLOSED = z.object({
  repository: REPOSITORY,
  installation: INSTALLATION_REF,
  pull_request: z.object({
    number: z.int(),
    head: z.object({ ref: z.string() }),
    html_url: z.string(),
    merged: z.boolean().nullish(),
    closed_at: z.string().nullish(),
  }),
  sender: z.object({ login: z.string().optional() }).nullish(),
});

// Repository lists are only logged: an entry without a name becomes null and a list that is not
// one (or none at all) becomes [], so they never turn a signed body into a 400.
const NAMED_REPOSITORIES = z.array(z.object({ full_name: z.string().min(1) }).nullable().catch(null)).catch([]);

/** `installation` and `installation_repositories`: what the operator's log line reads. */
export const INSTALLATION = z.object({
  action: z.string(),
  installation: z.object({
    id: z.int(),
    account: z.object({ login: z.string().optional(), slug: z.string().optional(), type: z.string().optional() }).nullish(),
    repository_selection: z.string().optional(),
  }),
  repository_selection: z.string().optional(),
  sender: z.object({ login: z.string().optional() }).nullish(),
  repositories: NAMED_REPOSITORIES,
  repositories_added: NAMED_REPOSITORIES,
  repositories_removed: NAMED_REPOSITORIES,
});

// "missing" reads better in an operator's log than zod's "expected string, received undefined".
const missingIsMissing: z.core.$ZodErrorMap = (issue) => (issue.input === undefined ? "missing" : undefined);

/** Parses `payload` with `schema`, or says what is wrong: "issue.number: missing". */
export function parseShape<T extends z.ZodType>(schema: T, payload: unknown): { data: z.output<T> } | { problem: string } {
  const parsed = schema.safeParse(payload, { error: missingIsMissing });
  if (parsed.success) return { data: parsed.data };
  const first = parsed.error.issues[0];
  return { problem: first ? `${first.path.join(".") || "(body)"}: ${first.message}` : "invalid" };
}
