import type { LinearClient } from "@linear/sdk";

/**
 * Links a pull request to the issue. Linear keeps one attachment per issue and URL (creating it
 * again updates it), so a retried job does not add a second link.
 */
export async function attachPullRequest(
  linear: LinearClient,
  p: { issueId: string; url: string; title: string; subtitle?: string },
): Promise<void> {
  await linear.createAttachment({
    issueId: p.issueId,
    url: p.url,
    title: p.title,
    subtitle: p.subtitle,
    iconUrl: "https://github.githubassets.com/favicons/favicon.png",
  });
}
