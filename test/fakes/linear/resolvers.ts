import { agentMutationResolvers, agentQueryResolvers, agentTypeResolvers } from "./agent-sessions.js";
import type { ConnectionScopes, Resolver, ResolverMap } from "./defaults.js";
import { invalidInput, notFound } from "./errors.js";
import { type ConnectionArgs, connectionOf } from "./filter.js";
import { mutationResolvers } from "./mutations.js";
import { relationMutationResolvers, relationQueryResolvers } from "./relations.js";
import type { LinearStore } from "./store.js";
import type { Entity } from "./types.js";

const values = <T>(map: Map<string, T>): T[] => [...map.values()];
const all = (store: LinearStore, typeName: string): Entity[] =>
  values(store.collectionFor(typeName) ?? new Map());
const whereEq = (store: LinearStore, typeName: string, key: string, value: unknown): Entity[] =>
  all(store, typeName).filter((e) => e[key] === value);

/** `Query.<field>(id:)` looking an entity up by id (Issue also by identifier, Team also by key). */
function byId(typeName: string): Resolver {
  return (_s, args, { store }) => {
    const id = args.id;
    const entity = typeof id === "string" ? store.getByType(typeName, id) : undefined;
    if (!entity) throw notFound(typeName);
    return entity;
  };
}

/** Root connection over a whole collection, honouring filter/first/after/last/before. */
function listOf(
  typeName: string,
  pick?: (store: LinearStore, args: Record<string, unknown>) => Entity[],
): Resolver {
  return (_s, args, { store }) =>
    connectionOf(store, typeName, pick ? pick(store, args) : all(store, typeName), args as ConnectionArgs);
}

/** What each to-many connection field of a stored object ranges over. */
export const connectionScopes: ConnectionScopes = {
  "Issue.labels": (store, p) =>
    ((p.labelIds as string[] | undefined) ?? [])
      .map((id) => store.issueLabels.get(id))
      .filter((l): l is NonNullable<typeof l> => l !== undefined),
  "Issue.comments": (store, p) => whereEq(store, "Comment", "issueId", p.id),
  "Issue.attachments": (store, p) => whereEq(store, "Attachment", "issueId", p.id),
  "Issue.children": (store, p) => whereEq(store, "Issue", "parentId", p.id),
  "Issue.relations": (store, p) => whereEq(store, "IssueRelation", "issueId", p.id),
  "Issue.inverseRelations": (store, p) => whereEq(store, "IssueRelation", "relatedIssueId", p.id),
  "AgentSession.activities": (store, p) => whereEq(store, "AgentActivity", "agentSessionId", p.id),
  "User.delegatedIssues": (store, p) => whereEq(store, "Issue", "delegateId", p.id),
  "Team.states": (store, p) => whereEq(store, "WorkflowState", "teamId", p.id),
  "Team.labels": (store, p) => whereEq(store, "IssueLabel", "teamId", p.id),
  "Team.issues": (store, p) => whereEq(store, "Issue", "teamId", p.id),
  "Team.members": (store) => all(store, "User"),
  "WorkflowState.issues": (store, p) => whereEq(store, "Issue", "stateId", p.id),
  "IssueLabel.issues": (store, p) =>
    values(store.issues).filter((i) => i.labelIds.includes(String(p.id))) as unknown as Entity[],
  "Project.issues": (store, p) => whereEq(store, "Issue", "projectId", p.id),
  "User.assignedIssues": (store, p) => whereEq(store, "Issue", "assigneeId", p.id),
  "User.createdIssues": (store, p) => whereEq(store, "Issue", "creatorId", p.id),
  "User.teams": (store) => all(store, "Team"),
  "Comment.children": (store, p) => whereEq(store, "Comment", "parentId", p.id),
  "Organization.teams": (store) => all(store, "Team"),
  "Organization.users": (store) => all(store, "User"),
  "Organization.labels": (store) => all(store, "IssueLabel"),
};

/** Issues whose identifier/title/description contain `text` (case-insensitive). */
function searchText(store: LinearStore, text: unknown): Entity[] {
  const q = typeof text === "string" ? text.toLowerCase() : "";
  return values(store.issues).filter((i) =>
    `${i.identifier} ${i.title} ${i.description ?? ""}`.toLowerCase().includes(q),
  ) as unknown as Entity[];
}

// Search results (IssueSearchResult) are issues too: share Issue's connection scopes.
for (const [key, scope] of Object.entries(connectionScopes)) {
  if (key.startsWith("Issue.")) connectionScopes[`IssueSearchResult.${key.slice("Issue.".length)}`] = scope;
}

const PRIORITY_LABELS = ["No priority", "Urgent", "High", "Medium", "Low"];
const priorityLabel: Resolver = (issue) => PRIORITY_LABELS[Number(issue.priority)] ?? "No priority";

export const resolvers: ResolverMap = {
  Query: {
    viewer: (_s, _a, { store, viewerId }) => (viewerId ? store.users.get(viewerId) : store.viewer),
    organization: (_s, _a, { store }) => store.organization,
    issue: byId("Issue"),
    team: byId("Team"),
    workflowState: byId("WorkflowState"),
    issueLabel: byId("IssueLabel"),
    attachment: byId("Attachment"),
    project: byId("Project"),
    user: byId("User"),
    comment: (s, args, ctx, info) => {
      if (typeof args.id !== "string") throw invalidInput("The Linear fake only supports comment(id:).");
      return byId("Comment")(s, args, ctx, info);
    },
    issues: listOf("Issue"),
    teams: listOf("Team"),
    workflowStates: listOf("WorkflowState"),
    issueLabels: listOf("IssueLabel"),
    comments: listOf("Comment"),
    attachments: listOf("Attachment"),
    projects: listOf("Project"),
    users: listOf("User"),
    attachmentsForURL: listOf("Attachment", (store, args) => whereEq(store, "Attachment", "url", args.url)),
    issueSearch: listOf("Issue", (store, args) => searchText(store, args.query)),
    ...agentQueryResolvers,
    ...relationQueryResolvers,
    searchIssues: (_s, args, { store }) => {
      const hits = searchText(store, args.term).filter((i) => !args.teamId || i.teamId === args.teamId);
      const total = connectionOf(store, "Issue", hits, { ...args, first: hits.length, after: null }).nodes
        .length;
      return { ...connectionOf(store, "Issue", hits, args as ConnectionArgs), totalCount: total };
    },
  },
  Mutation: { ...mutationResolvers, ...agentMutationResolvers, ...relationMutationResolvers },
  ...agentTypeResolvers,
  Issue: { priorityLabel },
  IssueSearchResult: { priorityLabel },
  User: {
    isMe: (user, _a, { store, viewerId }) => user.id === (viewerId ?? store.viewerId),
  },
  Team: {
    issueCount: (team, _a, { store }) => whereEq(store, "Issue", "teamId", team.id).length,
  },
};
