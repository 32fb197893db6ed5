import type { GitHub } from "./octokit.js";

/** The commit status context shown on agent PRs. */
export const STATUS_CONTEXT = "agent-workforce";

/** Sets the `agent-workforce` commit status on a commit (pending while an agent works). */
export async function setCommitStatus(
  octokit: GitHub,
  p: {
    owner: string;
    repo: string;
    sha: string;
    state: "pending" | "success" | "failure" | "error";
    description: string;
    targetUrl?: string | null;
    signal?: AbortSignal;
  },
): Promise<void> {
  await octokit.rest.repos.createCommitStatus({
    owner: p.owner,
    repo: p.repo,
    sha: p.sha,
    state: p.state,
    context: STATUS_CONTEXT,
    // GitHub rejects descriptions over 140 characters.
    description: p.description.length > 140 ? `${p.description.slice(0, 137)}...` : p.description,
    ...(p.targetUrl ? { target_url: p.targetUrl } : {}),
    request: { signal: p.signal },
  });
}
