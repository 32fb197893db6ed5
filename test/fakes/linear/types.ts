/** Plain-object entities held by the fake Linear store. Missing GraphQL fields are synthesized on read. */

export type WorkflowStateType = "triage" | "backlog" | "unstarted" | "started" | "completed" | "canceled";

export type FakeOrganization = {
  id: string;
  name: string;
  urlKey: string;
  createdAt: string;
  updatedAt: string;
};

export type FakeUser = {
  id: string;
  name: string;
  displayName: string;
  email: string;
  active: boolean;
  admin: boolean;
  url: string;
  createdAt: string;
  updatedAt: string;
};

export type FakeTeam = {
  id: string;
  key: string;
  name: string;
  displayName: string;
  private: boolean;
  timezone: string;
  createdAt: string;
  updatedAt: string;
};

export type FakeWorkflowState = {
  id: string;
  name: string;
  type: WorkflowStateType;
  position: number;
  color: string;
  description: string | null;
  teamId: string;
  createdAt: string;
  updatedAt: string;
};

export type FakeIssueLabel = {
  id: string;
  name: string;
  color: string;
  description: string | null;
  /** null = workspace-level label. */
  teamId: string | null;
  createdAt: string;
  updatedAt: string;
};

export type FakeProject = {
  id: string;
  name: string;
  description: string;
  slugId: string;
  url: string;
  state: string;
  createdAt: string;
  updatedAt: string;
};

export type FakeIssue = {
  id: string;
  /** e.g. "ENG-12" */
  identifier: string;
  number: number;
  title: string;
  description: string | null;
  url: string;
  branchName: string;
  teamId: string;
  stateId: string;
  labelIds: string[];
  projectId: string | null;
  assigneeId: string | null;
  /** The agent delegated to work on the issue (`Issue.delegate`); the assignee stays the owner. */
  delegateId?: string | null;
  creatorId: string | null;
  parentId: string | null;
  /** 0 = none, 1 = urgent, 2 = high, 3 = medium, 4 = low */
  priority: number;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  canceledAt: string | null;
  archivedAt: string | null;
};

export type FakeComment = {
  id: string;
  body: string;
  issueId: string;
  userId: string | null;
  parentId: string | null;
  url: string;
  createdAt: string;
  updatedAt: string;
  editedAt: string | null;
};

export type FakeAttachment = {
  id: string;
  issueId: string;
  url: string;
  title: string;
  subtitle: string | null;
  metadata: Record<string, unknown>;
  sourceType: string | null;
  creatorId: string | null;
  createdAt: string;
  updatedAt: string;
};

export type IssueRelationType = "blocks" | "duplicate" | "related" | "similar";

/**
 * `issueId` (the source) relates to `relatedIssueId` as `type`: for "blocks", issueId blocks relatedIssueId.
 * The source lists it in `Issue.relations`, the target in `Issue.inverseRelations`.
 */
export type FakeIssueRelation = {
  id: string;
  type: IssueRelationType;
  issueId: string;
  relatedIssueId: string;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
};

/** Any store entity, viewed generically. */
export type Entity = { id: string } & Record<string, unknown>;
