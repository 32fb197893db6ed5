import type { LinearClient } from "@linear/sdk";

/** Everything the agent and the router need to know about an issue, in one request. */
export interface IssueContext {
  id: string;
  identifier: string;
  title: string;
  description: string;
  url: string;
  team: { id: string; key: string; name: string };
  projectName: string | null;
  projectId: string | null;
  /** Who opened the issue: a clarifying question on the label path is addressed to them. */
  creator: { id: string; name: string } | null;
  /** The parent issue, for a sub-issue. */
  parent: { id: string; identifier: string } | null;
  labelNames: string[];
  state: { id: string; name: string; type: string };
  comments: Array<{ author: string; body: string; createdAt: string }>;
}

// One query instead of the SDK's lazy relation fetches (one request per relation and comment).
const ISSUE_CONTEXT = /* GraphQL */ `
  query AgentIssueContext($id: String!) {
    issue(id: $id) {
      id
      identifier
      title
      description
      url
      team { id key name }
      project { id name }
      creator { id name displayName }
      parent { id identifier }
      state { id name type }
      labels(first: 50) { nodes { name } }
      comments(first: 50) { nodes { body createdAt user { name displayName } botActor { name } } }
    }
  }
`;

interface IssueContextResponse {
  issue: {
    id: string;
    identifier: string;
    title: string;
    description: string | null;
    url: string;
    team: { id: string; key: string; name: string };
    project: { id: string; name: string } | null;
    creator: { id: string; name: string; displayName: string } | null;
    parent: { id: string; identifier: string } | null;
    state: { id: string; name: string; type: string };
    labels: { nodes: Array<{ name: string }> };
    comments: {
      nodes: Array<{
        body: string;
        createdAt: string;
        user: { name: string; displayName: string } | null;
        botActor: { name: string | null } | null;
      }>;
    };
  };
}

/** Reads an issue with its team, project, state, labels and comments (oldest first). */
export async function fetchIssueContext(linear: LinearClient, p: { issueId: string }): Promise<IssueContext> {
  const res = await linear.client.rawRequest<IssueContextResponse, { id: string }>(ISSUE_CONTEXT, {
    id: p.issueId,
  });
  const issue = res.data?.issue;
  if (!issue) throw new Error(`Linear returned no issue ${p.issueId}`);
  return {
    id: issue.id,
    identifier: issue.identifier,
    title: issue.title,
    description: issue.description ?? "",
    url: issue.url,
    team: issue.team,
    projectName: issue.project?.name ?? null,
    projectId: issue.project?.id ?? null,
    creator: issue.creator ? { id: issue.creator.id, name: issue.creator.displayName || issue.creator.name } : null,
    parent: issue.parent ?? null,
    labelNames: issue.labels.nodes.map((l) => l.name),
    state: issue.state,
    comments: issue.comments.nodes
      .map((c) => ({
        author: c.user?.displayName || c.user?.name || c.botActor?.name || "someone",
        body: c.body,
        createdAt: c.createdAt,
      }))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
  };
}
