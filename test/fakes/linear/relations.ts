import type { Resolver } from "./defaults.js";
import { duplicateId, invalidInput, notFound } from "./errors.js";
import { type ConnectionArgs, connectionOf } from "./filter.js";
import type { LinearStore } from "./store.js";
import type { Entity, FakeIssue, FakeIssueRelation, IssueRelationType } from "./types.js";

/**
 * Issue relations in the fake (`issueRelationCreate/Update/Delete`, `issueRelation(s)`), as Linear
 * documents them: `issueId` and `relatedIssueId` take a UUID or an identifier, `id` is the client's UUID.
 * `Issue.relations` / `Issue.inverseRelations` are connection scopes in resolvers.ts; `IssueRelation.issue`
 * and `.relatedIssue` resolve through their `…Id` fields.
 */

type Input = Record<string, unknown>;

const TYPES: readonly IssueRelationType[] = ["blocks", "duplicate", "related", "similar"];

function requireIssue(store: LinearStore, id: unknown): FakeIssue {
  const issue = typeof id === "string" ? store.getIssue(id) : undefined;
  if (!issue) throw notFound("Issue");
  return issue;
}

function requireRelation(store: LinearStore, id: unknown): FakeIssueRelation {
  const relation = typeof id === "string" ? store.issueRelations.get(id) : undefined;
  if (!relation) throw notFound("IssueRelation");
  return relation;
}

function relationType(value: unknown): IssueRelationType {
  if (!TYPES.includes(value as IssueRelationType)) throw invalidInput(`Unknown issue relation type ${String(value)}`);
  return value as IssueRelationType;
}

function checkEnds(issue: FakeIssue, related: FakeIssue): void {
  if (issue.id === related.id) throw invalidInput("An issue cannot be related to itself.");
}

export const relationMutationResolvers: Record<string, Resolver> = {
  issueRelationCreate: (_s, { input }, { store }) => {
    const i = input as Input;
    const id = typeof i.id === "string" ? i.id : undefined;
    if (id && store.issueRelations.has(id)) throw duplicateId("issue relation");
    const issue = requireIssue(store, i.issueId);
    const related = requireIssue(store, i.relatedIssueId);
    checkEnds(issue, related);
    const relation = store.addRelation({ issueId: issue.id, relatedIssueId: related.id, type: relationType(i.type), id });
    return { success: true, lastSyncId: store.nextSyncId(), issueRelation: relation };
  },
  issueRelationUpdate: (_s, { id, input }, { store }) => {
    const relation = requireRelation(store, id);
    const i = input as Input;
    const issue = i.issueId == null ? requireIssue(store, relation.issueId) : requireIssue(store, i.issueId);
    const related =
      i.relatedIssueId == null ? requireIssue(store, relation.relatedIssueId) : requireIssue(store, i.relatedIssueId);
    checkEnds(issue, related);
    if (i.type != null) relation.type = relationType(i.type);
    relation.issueId = issue.id;
    relation.relatedIssueId = related.id;
    store.touch(relation);
    return { success: true, lastSyncId: store.nextSyncId(), issueRelation: relation };
  },
  issueRelationDelete: (_s, { id }, { store }) => {
    const relation = requireRelation(store, id);
    store.issueRelations.delete(relation.id);
    return { success: true, lastSyncId: store.nextSyncId(), entityId: relation.id };
  },
};

export const relationQueryResolvers: Record<string, Resolver> = {
  issueRelation: (_s, { id }, { store }) => requireRelation(store, id),
  issueRelations: (_s, args, { store }) =>
    connectionOf(store, "IssueRelation", [...store.issueRelations.values()] as Entity[], args as ConnectionArgs),
};
