import type { GitHub } from "./octokit.js";

export interface PullRequestRef {
  number: number;
  url: string;
  headSha: string;
  draft: boolean;
  state: string;
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
    ? { number: pr.number, url: pr.html_url, headSha: pr.head.sha, draft: Boolean(pr.draft), state: pr.state }
    : null;
}

/**
 * Opens the PR for `branch`, or updates the one that exists (a retried job must not open a
 * second). A draft that now passes its checks is marked ready; a ready PR is never turned back
 * into a draft behind a reviewer's back, its body says the checks fail instead.
 */
export async function openOrUpdatePullRequest(
  octokit: GitHub,
  p: {
    owner: string;
    repo: string;
    branch: string;
    base: string;
    title: string;
    body: string;
    draft: boolean;
    signal?: AbortSignal;
  },
): Promise<PullRequestRef & { created: boolean; notReady?: string }> {
  const request = { signal: p.signal };
  const existing = await findOpenPullRequest(octokit, p);
  if (existing) {
    const { data } = await octokit.rest.pulls.update({
      owner: p.owner,
      repo: p.repo,
      pull_number: existing.number,
      title: p.title,
      body: p.body,
      request,
    });
    const notReady = existing.draft && !p.draft ? await markReady(octokit, { ...p, number: existing.number }) : null;
    return {
      number: data.number,
      url: data.html_url,
      headSha: data.head.sha,
      draft: existing.draft && (p.draft || notReady !== null),
      state: data.state,
      created: false,
      ...(notReady ? { notReady } : {}),
    };
  }
  const { data } = await octokit.rest.pulls.create({
    owner: p.owner,
    repo: p.repo,
    head: p.branch,
    base: p.base,
    title: p.title,
    body: p.body,
    draft: p.draft,
    request,
  });
  return {
    number: data.number,
    url: data.html_url,
    headSha: data.head.sha,
    draft: Boolean(data.draft),
    state: data.state,
    created: true,
  };
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
    return `GitHub would not mark pull request #${p.number} ready for review (${why}); give GITHUB_TOKEN write access to pull requests, or mark it ready by hand`;
  }
}
