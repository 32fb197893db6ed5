import type { GitHub } from "./octokit.js";

/** What the worker needs from a repository: where to clone from and its default branch. */
export async function getRepository(
  octokit: GitHub,
  p: { owner: string; repo: string; signal?: AbortSignal },
): Promise<{ cloneUrl: string; defaultBranch: string; htmlUrl: string }> {
  const { data } = await octokit.rest.repos.get({
    owner: p.owner,
    repo: p.repo,
    request: { signal: p.signal },
  });
  return { cloneUrl: data.clone_url, defaultBranch: data.default_branch, htmlUrl: data.html_url };
}
