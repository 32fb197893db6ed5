import { createHash } from "node:crypto";
import type { LinearClient } from "@linear/sdk";

// A manager's sub-issues in Linear: created under ids the plan derives (so a retry after a crash
// finds what the first attempt created instead of creating it twice), the `blocks` relations
// between them, and the children as they stand. Raw GraphQL: one request per step, where the
// SDK's models would fetch each relation lazily.

/**
 * A UUID (v4-formatted, as Linear requires of a client-chosen id) derived from a parent issue, a
 * plan (its proposal time) and a part of it (a subtask key, a relation): the same inputs give the
 * same id in every process and attempt.
 */
export function planUuid(parentIssueId: string, planAt: string, part: string): string {
  const b = createHash("sha256").update(`${parentIssueId}\n${planAt}\n${part}`).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A sub-issue as Linear created (or already had) it. */
export interface CreatedIssue {
  id: string;
  identifier: string;
  url: string;
}

const CREATE_ISSUE = /* GraphQL */ `
  mutation AgentCreateSubIssue($input: IssueCreateInput!) {
    issueCreate(input: $input) { success issue { id identifier url } }
  }
`;

const READ_ISSUE = /* GraphQL */ `
  query AgentSubIssue($id: String!) {
    issue(id: $id) { id identifier url }
  }
`;

/**
 * Creates a sub-issue under the id given. An id that already exists is the same sub-issue created
 * by an earlier attempt (a crash after Linear created it, a lost answer): it is read back and
 * counts as created. Any other failure stands.
 */
export async function createSubIssue(
  linear: LinearClient,
  p: {
    id: string;
    parentId: string;
    teamId: string;
    projectId: string | null;
    title: string;
    description: string;
    labelIds: string[];
    delegateId?: string | null;
    signal?: AbortSignal;
  },
): Promise<CreatedIssue> {
  p.signal?.throwIfAborted();
  const input = {
    id: p.id,
    parentId: p.parentId,
    teamId: p.teamId,
    title: p.title,
    description: p.description,
    ...(p.projectId ? { projectId: p.projectId } : {}),
    ...(p.labelIds.length ? { labelIds: p.labelIds } : {}),
    ...(p.delegateId ? { delegateId: p.delegateId } : {}),
  };
  try {
    const res = await linear.client.rawRequest<{ issueCreate: { success: boolean; issue: CreatedIssue | null } }, { input: typeof input }>(CREATE_ISSUE, { input });
    const issue = res.data?.issueCreate.issue;
    if (issue) return issue;
  } catch (err) {
    p.signal?.throwIfAborted();
    const existing = await readIssue(linear, p.id);
    if (existing) return existing;
    throw new Error(`Linear refused to create the sub-issue "${p.title}"; check that the token may create issues in the parent's team`, { cause: err });
  }
  const existing = await readIssue(linear, p.id);
  if (existing) return existing;
  throw new Error(`Linear answered the creation of the sub-issue "${p.title}" without the issue`);
}

async function readIssue(linear: LinearClient, id: string): Promise<CreatedIssue | null> {
  try {
    const res = await linear.client.rawRequest<{ issue: CreatedIssue | null }, { id: string }>(READ_ISSUE, { id });
    return res.data?.issue ?? null;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

const CREATE_RELATION = /* GraphQL */ `
  mutation AgentRelateBlocks($input: IssueRelationCreateInput!) {
    issueRelationCreate(input: $input) { success issueRelation { id } }
  }
`;

const BLOCKED_BY = /* GraphQL */ `
  query AgentBlockedBy($id: String!) {
    issue(id: $id) { inverseRelations(first: 100) { nodes { id type issue { id } } } }
  }
`;

/**
 * Records in Linear that `blockerId` blocks `blockedId`, under the id given. When Linear refuses,
 * the blocked issue's relations are read: the relation already there (this id from an earlier
 * attempt, or the same one a human added) counts as done.
 */
export async function relateBlocks(linear: LinearClient, p: { id: string; blockerId: string; blockedId: string; signal?: AbortSignal }): Promise<void> {
  p.signal?.throwIfAborted();
  const input = { id: p.id, issueId: p.blockerId, relatedIssueId: p.blockedId, type: "blocks" };
  try {
    await linear.client.rawRequest<unknown, { input: typeof input }>(CREATE_RELATION, { input });
    return;
  } catch (err) {
    p.signal?.throwIfAborted();
    const res = await linear.client.rawRequest<{ issue: { inverseRelations: { nodes: Array<{ id: string; type: string; issue: { id: string } }> } } }, { id: string }>(BLOCKED_BY, {
      id: p.blockedId,
    });
    const there = res.data?.issue.inverseRelations.nodes.some((r) => r.id === p.id || (r.type === "blocks" && r.issue.id === p.blockerId));
    if (there) return;
    throw new Error(`Linear refused to record that ${p.blockerId} blocks ${p.blockedId}`, { cause: err });
  }
}

/** A relation between two issues; for `blocks`, `issueId` blocks `relatedIssueId`. */
export interface IssueRelationRef {
  id: string;
  type: string;
  issueId: string;
  relatedIssueId: string;
}

/** A sub-issue as it stands in Linear. */
export interface ChildIssue {
  id: string;
  identifier: string;
  title: string;
  url: string;
  state: { name: string; type: string };
  labelNames: string[];
  /** Relations either way (what it blocks, what blocks it), once each. */
  relations: IssueRelationRef[];
}

const CHILDREN = /* GraphQL */ `
  query AgentChildren($id: String!) {
    issue(id: $id) {
      children(first: 100) {
        nodes {
          id
          identifier
          title
          url
          state { name type }
          labels(first: 50) { nodes { name } }
          relations(first: 50) { nodes { id type relatedIssue { id } } }
          inverseRelations(first: 50) { nodes { id type issue { id } } }
        }
      }
    }
  }
`;

interface ChildrenResponse {
  issue: {
    children: {
      nodes: Array<{
        id: string;
        identifier: string;
        title: string;
        url: string;
        state: { name: string; type: string };
        labels: { nodes: Array<{ name: string }> };
        relations: { nodes: Array<{ id: string; type: string; relatedIssue: { id: string } }> };
        inverseRelations: { nodes: Array<{ id: string; type: string; issue: { id: string } }> };
      }>;
    };
  };
}

/** Reads a parent's sub-issues with their state, labels and relations, in one request. */
export async function readChildren(linear: LinearClient, parentId: string): Promise<ChildIssue[]> {
  const res = await linear.client.rawRequest<ChildrenResponse, { id: string }>(CHILDREN, { id: parentId });
  const issue = res.data?.issue;
  if (!issue) throw new Error(`Linear returned no issue ${parentId}`);
  return issue.children.nodes.map((c) => {
    const relations = new Map<string, IssueRelationRef>();
    for (const r of c.relations.nodes) relations.set(r.id, { id: r.id, type: r.type, issueId: c.id, relatedIssueId: r.relatedIssue.id });
    for (const r of c.inverseRelations.nodes) relations.set(r.id, { id: r.id, type: r.type, issueId: r.issue.id, relatedIssueId: c.id });
    return { id: c.id, identifier: c.identifier, title: c.title, url: c.url, state: c.state, labelNames: c.labels.nodes.map((l) => l.name), relations: [...relations.values()] };
  });
}

// Linear answers an unknown id with "Entity not found" (INVALID_INPUT); anything else is an error.
function isNotFound(err: unknown): boolean {
  const e = err as { message?: string };
  return /entity not found|could not find|not found/i.test(e?.message ?? "");
}

/** What creating a parent's sub-issues needs from the parent: its team and project, and the agent label's id. */
export interface PlanParent {
  id: string;
  identifier: string;
  teamId: string;
  projectId: string | null;
  /** The agent label (by name): the parent's own, else a workspace label or one of the parent's team; null if none exists. */
  agentLabelId: string | null;
}

const PLAN_PARENT = /* GraphQL */ `
  query AgentPlanParent($id: String!, $label: String!) {
    issue(id: $id) {
      id
      identifier
      team { id }
      project { id }
      labels(first: 50) { nodes { id name } }
    }
    issueLabels(first: 50, filter: { name: { eqIgnoreCase: $label } }) { nodes { id name team { id } } }
  }
`;

interface PlanParentResponse {
  issue: { id: string; identifier: string; team: { id: string }; project: { id: string } | null; labels: { nodes: Array<{ id: string; name: string }> } };
  issueLabels: { nodes: Array<{ id: string; name: string; team: { id: string } | null }> };
}

/** Reads the parent's team, project and the agent label's id, in one request. */
export async function readPlanParent(linear: LinearClient, p: { parentId: string; agentLabel: string }): Promise<PlanParent> {
  const res = await linear.client.rawRequest<PlanParentResponse, { id: string; label: string }>(PLAN_PARENT, { id: p.parentId, label: p.agentLabel });
  const issue = res.data?.issue;
  if (!issue) throw new Error(`Linear returned no issue ${p.parentId}`);
  const wanted = p.agentLabel.toLowerCase();
  const own = issue.labels.nodes.find((l) => l.name.toLowerCase() === wanted);
  const usable = (res.data?.issueLabels.nodes ?? []).filter((l) => l.name.toLowerCase() === wanted && (!l.team || l.team.id === issue.team.id));
  // A team's own label wins over a workspace one of the same name, as Linear shows it on the team's issues.
  const label = own ?? usable.find((l) => l.team) ?? usable[0] ?? null;
  return { id: issue.id, identifier: issue.identifier, teamId: issue.team.id, projectId: issue.project?.id ?? null, agentLabelId: label?.id ?? null };
}
