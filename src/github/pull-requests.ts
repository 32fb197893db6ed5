import type { GitHub } from "./octokit.js";

/**
 * Title prefix that says "not ready for review" where the repository has no drafts (GitHub Free
 * private repositories answer a draft with 422). Dropping it is how such a PR is marked ready.
 */
export const NOT_READY_MARKER = "[WIP] ";

export interface PullRequestRef {
  number: number;
  url: string;
  headSha: string;
  /** GitHub's own draft flag. */
  draft: boolean;
  state: string;
  title: string;
}

/** What {@link openOrUpdatePullRequest} did. */
export interface PullRequestOutcome extends PullRequestRef {
  created: boolean;
  /** False while the PR is a draft or, where drafts are unsupported, titled with {@link NOT_READY_MARKER}. */
  readyForReview: boolean;
  /** Why a draft that should be ready was left a draft (GitHub refused); for the task's error. */
  notReady?: string;
  /** Set when a draft was refused and the PR opened as a normal one titled not ready; for the log. */
  draftsUnsupported?: string;
}

/** The open pull request whose head is `branch`, or null. */
export async function findOpenPullRequest(
  octokit: GitHub,
  p: { owner: string; repo: string; branch: string; signal?: AbortSignal },
): Promise<PullRequestRef | null> {
  const { data } = await octokit.rest.pulls.list({
    owner: p.owner,
    repo: p.repo,
    head: `${p.owner}:${p.branch}`,
    state: "open",
    per_page: 10,
    request: { signal: p.signal },
  });
  const pr = data.find((x) => x.head.ref === p.branch);
  return pr
    ? { number: pr.number, url: pr.html_url, headSha: pr.head.sha, draft: Boolean(pr.draft), state: pr.state, title: pr.title }
    : null;
}

interface OpenParams {
  owner: string;
  repo: string;
  branch: string;
  base: string;
  title: string;
  body: string;
  draft: boolean;
  signal?: AbortSignal;
}

/**
 * Opens the PR for `branch`, or updates the one that exists (a retried job must not open a
 * second). A PR that is not ready (a draft, or titled not ready where the repository has no
 * drafts) and now passes its checks is marked ready; a ready PR is never turned back into a
 * draft behind a reviewer's back, its body says the checks fail instead.
 */
export async function openOrUpdatePullRequest(octokit: GitHub, p: OpenParams): Promise<PullRequestOutcome> {
  const existing = await findOpenPullRequest(octokit, p);
  return existing ? updatePullRequest(octokit, p, existing) : createPullRequest(octokit, p);
}

async function updatePullRequest(octokit: GitHub, p: OpenParams, existing: PullRequestRef): Promise<PullRequestOutcome> {
  const titledNotReady = !existing.draft && existing.title.startsWith(NOT_READY_MARKER);
  const { data } = await octokit.rest.pulls.update({
    owner: p.owner,
    repo: p.repo,
    pull_number: existing.number,
    // Keeping the marker while the PR is still not ready; dropping it marks the PR ready.
    title: titledNotReady && p.draft ? markNotReady(p.title) : p.title,
    body: p.body,
    request: { signal: p.signal },
  });
  const notReady = existing.draft && !p.draft ? await markReady(octokit, { ...p, number: existing.number }) : null;
  const draft = existing.draft && (p.draft || notReady !== null);
  return {
    ...refOf(data, draft),
    created: false,
    readyForReview: !draft && !data.title.startsWith(NOT_READY_MARKER),
    ...(notReady ? { notReady } : {}),
  };
}

async function createPullRequest(octokit: GitHub, p: OpenParams): Promise<PullRequestOutcome> {
  const create = (draft: boolean, title: string) =>
    octokit.rest.pulls.create({
      owner: p.owner,
      repo: p.repo,
      head: p.branch,
      base: p.base,
      title,
      body: p.body,
      draft,
      request: { signal: p.signal },
    });
  try {
    const { data } = await create(p.draft, p.title);
    return { ...refOf(data, Boolean(data.draft)), created: true, readyForReview: !data.draft };
  } catch (err) {
    if (!p.draft || !refusesDrafts(err)) throw err;
  }
  const { data } = await create(false, markNotReady(p.title));
  return {
    ...refOf(data, false),
    created: true,
    readyForReview: false,
    draftsUnsupported:
      `${p.owner}/${p.repo} has no draft pull requests (GitHub Free private repository), so #${data.number} ` +
      `was opened as a normal pull request titled "${NOT_READY_MARKER.trim()}"; the marker goes when its checks pass`,
  };
}

function refOf(
  data: { number: number; html_url: string; head: { sha: string }; state: string; title: string },
  draft: boolean,
): PullRequestRef {
  return { number: data.number, url: data.html_url, headSha: data.head.sha, draft, state: data.state, title: data.title };
}

function markNotReady(title: string): string {
  return title.startsWith(NOT_READY_MARKER) ? title : `${NOT_READY_MARKER}${title}`;
}

/** GitHub's 422 for a draft where the plan has none: a bare message, no `errors` list. */
function refusesDrafts(err: unknown): boolean {
  const e = err as { status?: number; response?: { data?: { message?: unknown } } };
  const message = e.response?.data?.message;
  return e.status === 422 && typeof message === "string" && /draft pull requests are not supported/i.test(message);
}

/**
 * REST cannot flip a draft to ready; GraphQL's markPullRequestReadyForReview can. A refusal does
 * not fail the job (the PR and its body are right), but the PR stays a draft and the caller
 * gets the reason to pass on.
 */
async function markReady(
  octokit: GitHub,
  p: { owner: string; repo: string; number: number; signal?: AbortSignal },
): Promise<string | null> {
  const { data } = await octokit.rest.pulls.get({
    owner: p.owner,
    repo: p.repo,
    pull_number: p.number,
    request: { signal: p.signal },
  });
  try {
    await octokit.graphql(
      `mutation($id: ID!) { markPullRequestReadyForReview(input: { pullRequestId: $id }) { clientMutationId } }`,
      { id: data.node_id, request: { signal: p.signal } },
    );
    return null;
  } catch (err) {
    if (p.signal?.aborted) throw err;
    // GraphQL refusals come as a list of errors; their messages say more than the wrapper's.
    const errors = (err as { errors?: Array<{ message?: string }> }).errors;
    const why = errors?.map((e) => e.message).join("; ") || (err as Error).message;
    return `GitHub would not mark pull request #${p.number} ready for review (${why}); give GITHUB_TOKEN write access to pull requests (a GitHub App: its "Pull requests: Read and write" permission), or mark it ready by hand`;
  }
}
