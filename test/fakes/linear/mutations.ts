import type { Resolver } from "./defaults.js";
import { duplicateId, invalidInput, notFound } from "./errors.js";
import type { LinearStore } from "./store.js";
import type { FakeAttachment, FakeComment, FakeIssue } from "./types.js";

type Input = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const strList = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : undefined;

function payload<K extends string, V>(store: LinearStore, key: K, entity: V) {
  return { success: true, lastSyncId: store.nextSyncId(), [key]: entity } as {
    success: true;
    lastSyncId: number;
  } & Record<K, V>;
}

function requireIssue(store: LinearStore, id: unknown): FakeIssue {
  const issue = typeof id === "string" ? store.getIssue(id) : undefined;
  if (!issue) throw notFound("Issue");
  return issue;
}

function requireComment(store: LinearStore, id: unknown): FakeComment {
  const comment = typeof id === "string" ? store.comments.get(id) : undefined;
  if (!comment) throw notFound("Comment");
  return comment;
}

function requireAttachment(store: LinearStore, id: unknown): FakeAttachment {
  const attachment = typeof id === "string" ? store.attachments.get(id) : undefined;
  if (!attachment) throw notFound("Attachment");
  return attachment;
}

function checkLabels(store: LinearStore, ids: string[]): string[] {
  for (const id of ids) if (!store.issueLabels.has(id)) throw notFound("IssueLabel");
  return [...new Set(ids)];
}

/** Move an issue into a workflow state, maintaining startedAt/completedAt/canceledAt like Linear. */
function setState(store: LinearStore, issue: FakeIssue, stateId: string): void {
  const state = store.workflowStates.get(stateId);
  if (!state) throw notFound("WorkflowState");
  if (state.teamId !== issue.teamId)
    throw invalidInput("The workflow state does not belong to the issue's team.");
  if (issue.stateId === state.id) return;
  issue.stateId = state.id;
  const now = store.now();
  if (state.type === "started" && !issue.startedAt) issue.startedAt = now;
  issue.completedAt = state.type === "completed" ? now : null;
  issue.canceledAt = state.type === "canceled" ? now : null;
}

/** Apply IssueUpdateInput / IssueCreateInput fields to an issue (validating referenced ids). */
function applyIssueInput(store: LinearStore, issue: FakeIssue, input: Input): void {
  const teamId = str(input.teamId);
  if (teamId && teamId !== issue.teamId) {
    const team = store.getTeam(teamId);
    if (!team) throw notFound("Team");
    const current = store.workflowStates.get(issue.stateId);
    issue.teamId = team.id;
    const target =
      store.findState(team.id, { name: current?.name }) ??
      store.findState(team.id, { type: current?.type }) ??
      store.statesFor(team.id)[0];
    if (target) issue.stateId = target.id;
  }
  const stateId = str(input.stateId);
  if (stateId) setState(store, issue, stateId);
  if (typeof input.title === "string") issue.title = input.title;
  if (input.description !== undefined) issue.description = str(input.description) ?? null;
  if (typeof input.priority === "number") issue.priority = input.priority;
  if (input.assigneeId !== undefined) {
    const id = str(input.assigneeId) ?? null;
    if (id && !store.users.has(id)) throw notFound("User");
    issue.assigneeId = id;
  }
  if (input.delegateId !== undefined) {
    // The agent (an app user) works on the issue for the human assignee, who keeps it.
    const id = str(input.delegateId) ?? null;
    if (id && !store.users.has(id)) throw notFound("User");
    issue.delegateId = id;
  }
  if (input.projectId !== undefined) {
    const id = str(input.projectId) ?? null;
    if (id && !store.projects.has(id)) throw notFound("Project");
    issue.projectId = id;
  }
  if (input.parentId !== undefined) {
    const id = str(input.parentId);
    issue.parentId = id ? requireIssue(store, id).id : null;
  }
  const labelIds = strList(input.labelIds);
  if (labelIds) issue.labelIds = checkLabels(store, labelIds);
  const added = strList(input.addedLabelIds);
  if (added) issue.labelIds = checkLabels(store, [...issue.labelIds, ...added]);
  const removed = strList(input.removedLabelIds);
  if (removed) issue.labelIds = issue.labelIds.filter((id) => !removed.includes(id));
}

function githubPrMetadata(url: string): Record<string, unknown> {
  const m = /^https:\/\/github\.com\/([^/]+)\/([^/]+)\/pull\/(\d+)/.exec(url);
  return m ? { url, owner: m[1], repo: m[2], number: Number(m[3]) } : { url };
}

export const mutationResolvers: Record<string, Resolver> = {
  issueCreate: (_s, { input }, { store, viewerId }) => {
    const i = input as Input;
    const team = store.getTeam(str(i.teamId) ?? "");
    if (!team) throw notFound("Team");
    if (str(i.id) && store.issues.has(str(i.id)!)) throw duplicateId("issue");
    // The creator is whoever calls: the API key's user, or the app user behind an app token.
    const creatorId = viewerId ?? store.viewerId;
    const issue = store.seedIssue({ teamId: team.id, title: str(i.title) ?? "", id: str(i.id), creatorId });
    try {
      applyIssueInput(store, issue, { ...i, teamId: undefined });
    } catch (error) {
      store.issues.delete(issue.id);
      throw error;
    }
    return payload(store, "issue", issue);
  },
  issueUpdate: (_s, { id, input }, { store }) => {
    const issue = requireIssue(store, id);
    applyIssueInput(store, issue, input as Input);
    store.touch(issue);
    return payload(store, "issue", issue);
  },
  issueAddLabel: (_s, { id, labelId }, { store }) => {
    const issue = requireIssue(store, id);
    issue.labelIds = checkLabels(store, [...issue.labelIds, String(labelId)]);
    store.touch(issue);
    return payload(store, "issue", issue);
  },
  issueRemoveLabel: (_s, { id, labelId }, { store }) => {
    const issue = requireIssue(store, id);
    issue.labelIds = issue.labelIds.filter((l) => l !== labelId);
    store.touch(issue);
    return payload(store, "issue", issue);
  },
  issueArchive: (_s, { id }, { store }) => {
    const issue = requireIssue(store, id);
    issue.archivedAt = store.now();
    store.touch(issue);
    return payload(store, "entity", issue);
  },
  commentCreate: (_s, { input }, { store, viewerId }) => {
    const i = input as Input;
    if (!str(i.issueId)) throw invalidInput("Comments in the Linear fake must have an issueId.");
    if (str(i.id) && store.comments.has(str(i.id)!)) throw duplicateId("comment");
    const issue = requireIssue(store, i.issueId);
    const parentId = str(i.parentId) ? requireComment(store, i.parentId).id : null;
    // The author is whoever calls: the API key's user, or the app user behind an app token.
    const userId = viewerId ?? store.viewerId;
    const comment = store.addComment({ issueId: issue.id, body: str(i.body) ?? "", parentId, userId, id: str(i.id) });
    return payload(store, "comment", comment);
  },
  commentUpdate: (_s, { id, input, skipEditedAt }, { store }) => {
    const comment = requireComment(store, id);
    const body = str((input as Input).body);
    if (body !== undefined) {
      comment.body = body;
      if (!skipEditedAt) comment.editedAt = store.now();
    }
    store.touch(comment);
    return payload(store, "comment", comment);
  },
  commentDelete: (_s, { id }, { store }) => {
    const comment = requireComment(store, id);
    store.comments.delete(comment.id);
    return payload(store, "entityId", comment.id);
  },
  attachmentCreate: (_s, { input }, { store }) => {
    const i = input as Input;
    const issue = requireIssue(store, i.issueId);
    const { attachment } = store.upsertAttachment({
      issueId: issue.id,
      url: String(i.url),
      title: str(i.title),
      subtitle: i.subtitle === undefined ? undefined : (str(i.subtitle) ?? null),
      metadata: (i.metadata as Record<string, unknown> | null | undefined) ?? undefined,
      id: str(i.id),
    });
    return payload(store, "attachment", attachment);
  },
  attachmentUpdate: (_s, { id, input }, { store }) => {
    const attachment = requireAttachment(store, id);
    const i = input as Input;
    if (typeof i.title === "string") attachment.title = i.title;
    if (i.subtitle !== undefined) attachment.subtitle = str(i.subtitle) ?? null;
    if (i.metadata) attachment.metadata = i.metadata as Record<string, unknown>;
    store.touch(attachment);
    return payload(store, "attachment", attachment);
  },
  attachmentDelete: (_s, { id }, { store }) => {
    const attachment = requireAttachment(store, id);
    store.attachments.delete(attachment.id);
    return payload(store, "entityId", attachment.id);
  },
  attachmentLinkURL: (_s, { issueId, url, title, id }, { store }) => {
    const issue = requireIssue(store, issueId);
    const { attachment } = store.upsertAttachment({
      issueId: issue.id,
      url: String(url),
      title: str(title),
      id: str(id),
    });
    return payload(store, "attachment", attachment);
  },
  attachmentLinkGitHubPR: (_s, { issueId, url, title, id }, { store }) => {
    const issue = requireIssue(store, issueId);
    const { attachment } = store.upsertAttachment({
      issueId: issue.id,
      url: String(url),
      title: str(title),
      id: str(id),
      sourceType: "github",
      metadata: githubPrMetadata(String(url)),
    });
    return payload(store, "attachment", attachment);
  },
};
