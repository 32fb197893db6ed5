import { randomUUID } from "node:crypto";
import { StoreCollections } from "./collections.js";
import type {
  FakeAttachment,
  FakeComment,
  FakeIssue,
  FakeIssueLabel,
  FakeIssueRelation,
  FakeProject,
  FakeTeam,
  FakeUser,
  FakeWorkflowState,
  IssueRelationType,
  WorkflowStateType,
} from "./types.js";

const DEFAULT_WORKFLOW: ReadonlyArray<{ name: string; type: WorkflowStateType; color: string }> = [
  { name: "Triage", type: "triage", color: "#FC7840" },
  { name: "Backlog", type: "backlog", color: "#bec2c8" },
  { name: "Todo", type: "unstarted", color: "#e2e2e2" },
  { name: "In Progress", type: "started", color: "#f2c94c" },
  { name: "In Review", type: "started", color: "#0f783c" },
  { name: "Done", type: "completed", color: "#5e6ad2" },
  { name: "Canceled", type: "canceled", color: "#95a2b3" },
];

export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
}

/**
 * In-memory Linear workspace: the collections and getters of {@link StoreCollections} plus seeding helpers.
 * A workspace (`organization`) and a viewer user exist from the start.
 */
export class LinearStore extends StoreCollections {
  private readonly issueCounters = new Map<string, number>();

  constructor() {
    super();
    this.viewerId = this.seedUser({ name: "Fake Agent", email: "agent@example.com" }).id;
  }

  seedUser(input: { name: string; email?: string; id?: string; admin?: boolean }): FakeUser {
    const createdAt = this.now();
    const id = input.id ?? randomUUID();
    const handle = slugify(input.name) || "user";
    const user: FakeUser = {
      id,
      name: input.name,
      displayName: handle,
      email: input.email ?? `${handle}@example.com`,
      active: true,
      admin: input.admin ?? false,
      url: `https://linear.app/fake/profiles/${handle}`,
      createdAt,
      updatedAt: createdAt,
    };
    this.users.set(id, user);
    return user;
  }

  /** Create a team with Linear's default workflow (Triage, Backlog, Todo, In Progress, In Review, Done, Canceled). */
  seedTeam(input: { key: string; name: string; id?: string; withDefaultWorkflow?: boolean }): FakeTeam {
    const createdAt = this.now();
    const team: FakeTeam = {
      id: input.id ?? randomUUID(),
      key: input.key,
      name: input.name,
      displayName: input.name,
      private: false,
      timezone: "UTC",
      createdAt,
      updatedAt: createdAt,
    };
    this.teams.set(team.id, team);
    if (input.withDefaultWorkflow !== false) {
      DEFAULT_WORKFLOW.forEach((s, i) => {
        this.seedWorkflowState({ teamId: team.id, name: s.name, type: s.type, color: s.color, position: i });
      });
    }
    return team;
  }

  seedWorkflowState(input: {
    teamId: string;
    name: string;
    type: WorkflowStateType;
    position?: number;
    color?: string;
    id?: string;
  }): FakeWorkflowState {
    const createdAt = this.now();
    const state: FakeWorkflowState = {
      id: input.id ?? randomUUID(),
      name: input.name,
      type: input.type,
      position: input.position ?? this.statesFor(input.teamId).length,
      color: input.color ?? "#bec2c8",
      description: null,
      teamId: input.teamId,
      createdAt,
      updatedAt: createdAt,
    };
    this.workflowStates.set(state.id, state);
    return state;
  }

  /** Create an issue label; omit `teamId` for a workspace-level label. */
  seedLabel(input: { name: string; teamId?: string | null; color?: string; id?: string }): FakeIssueLabel {
    const createdAt = this.now();
    const label: FakeIssueLabel = {
      id: input.id ?? randomUUID(),
      name: input.name,
      color: input.color ?? "#5e6ad2",
      description: null,
      teamId: input.teamId ?? null,
      createdAt,
      updatedAt: createdAt,
    };
    this.issueLabels.set(label.id, label);
    return label;
  }

  seedProject(input: { name: string; description?: string; id?: string }): FakeProject {
    const createdAt = this.now();
    const id = input.id ?? randomUUID();
    const slugId = id.replace(/-/g, "").slice(0, 12);
    const project: FakeProject = {
      id,
      name: input.name,
      description: input.description ?? "",
      slugId,
      url: `https://linear.app/fake/project/${slugify(input.name)}-${slugId}`,
      state: "started",
      createdAt,
      updatedAt: createdAt,
    };
    this.projects.set(id, project);
    return project;
  }

  /**
   * Create an issue with identifier `TEAMKEY-N`. Without `stateId` it lands in the team's first `backlog`
   * state (else the first `unstarted`, else the first state).
   */
  seedIssue(input: {
    teamId: string;
    title: string;
    description?: string | null;
    labelIds?: string[];
    stateId?: string;
    projectId?: string | null;
    assigneeId?: string | null;
    parentId?: string | null;
    priority?: number;
    id?: string;
    /** Who created it (default: the viewer). */
    creatorId?: string | null;
    delegateId?: string | null;
  }): FakeIssue {
    const team = this.teams.get(input.teamId);
    if (!team) throw new Error(`seedIssue: unknown team ${input.teamId}`);
    const states = this.statesFor(team.id);
    const state =
      (input.stateId ? this.workflowStates.get(input.stateId) : undefined) ??
      states.find((s) => s.type === "backlog") ??
      states.find((s) => s.type === "unstarted") ??
      states[0];
    if (!state) throw new Error(`seedIssue: team ${team.key} has no workflow states`);
    const number = (this.issueCounters.get(team.id) ?? 0) + 1;
    this.issueCounters.set(team.id, number);
    const identifier = `${team.key}-${number}`;
    const slug = slugify(input.title);
    const createdAt = this.now();
    const issue: FakeIssue = {
      id: input.id ?? randomUUID(),
      identifier,
      number,
      title: input.title,
      description: input.description ?? null,
      url: `https://linear.app/fake/issue/${identifier}/${slug}`,
      branchName: `${identifier.toLowerCase()}-${slug}`.slice(0, 80),
      teamId: team.id,
      stateId: state.id,
      labelIds: [...(input.labelIds ?? [])],
      projectId: input.projectId ?? null,
      assigneeId: input.assigneeId ?? null,
      ...(input.delegateId !== undefined ? { delegateId: input.delegateId } : {}),
      creatorId: input.creatorId === undefined ? this.viewerId : input.creatorId,
      parentId: input.parentId ?? null,
      priority: input.priority ?? 0,
      createdAt,
      updatedAt: createdAt,
      startedAt: state.type === "started" ? createdAt : null,
      completedAt: state.type === "completed" ? createdAt : null,
      canceledAt: state.type === "canceled" ? createdAt : null,
      archivedAt: null,
    };
    this.issues.set(issue.id, issue);
    return issue;
  }

  /** Relate two issues (UUIDs or identifiers): for "blocks", `issueId` blocks `relatedIssueId`. */
  addRelation(input: { issueId: string; relatedIssueId: string; type: IssueRelationType; id?: string }): FakeIssueRelation {
    const issue = this.getIssue(input.issueId);
    const related = this.getIssue(input.relatedIssueId);
    if (!issue || !related) throw new Error(`addRelation: unknown issue ${issue ? input.relatedIssueId : input.issueId}`);
    const createdAt = this.now();
    const relation: FakeIssueRelation = {
      id: input.id ?? randomUUID(),
      type: input.type,
      issueId: issue.id,
      relatedIssueId: related.id,
      createdAt,
      updatedAt: createdAt,
      archivedAt: null,
    };
    this.issueRelations.set(relation.id, relation);
    return relation;
  }

  /** Add a comment (authored by the viewer unless `userId` is given). */
  addComment(input: {
    issueId: string;
    body: string;
    userId?: string | null;
    parentId?: string | null;
    id?: string;
  }): FakeComment {
    const issue = this.getIssue(input.issueId);
    if (!issue) throw new Error(`addComment: unknown issue ${input.issueId}`);
    const id = input.id ?? randomUUID();
    const createdAt = this.now();
    const comment: FakeComment = {
      id,
      body: input.body,
      issueId: issue.id,
      userId: input.userId === undefined ? this.viewerId : input.userId,
      parentId: input.parentId ?? null,
      url: `${issue.url}#comment-${id.slice(0, 8)}`,
      createdAt,
      updatedAt: createdAt,
      editedAt: null,
    };
    this.comments.set(id, comment);
    return comment;
  }

  /**
   * Create or update the attachment for (issueId, url) — Linear keeps attachment URLs unique per issue.
   * `title` defaults to the url; fields left undefined keep their previous value on update.
   */
  upsertAttachment(input: {
    issueId: string;
    url: string;
    title?: string | null;
    subtitle?: string | null;
    metadata?: Record<string, unknown> | null;
    sourceType?: string | null;
    id?: string | null;
  }): { attachment: FakeAttachment; created: boolean } {
    const existing = this.attachmentsFor(input.issueId).find((a) => a.url === input.url);
    if (existing) {
      if (input.title != null) existing.title = input.title;
      if (input.subtitle !== undefined) existing.subtitle = input.subtitle;
      if (input.metadata != null) existing.metadata = input.metadata;
      if (input.sourceType != null) existing.sourceType = input.sourceType;
      this.touch(existing);
      return { attachment: existing, created: false };
    }
    const createdAt = this.now();
    const attachment: FakeAttachment = {
      id: input.id ?? randomUUID(),
      issueId: input.issueId,
      url: input.url,
      title: input.title ?? input.url,
      subtitle: input.subtitle ?? null,
      metadata: input.metadata ?? {},
      sourceType: input.sourceType ?? null,
      creatorId: this.viewerId,
      createdAt,
      updatedAt: createdAt,
    };
    this.attachments.set(attachment.id, attachment);
    return { attachment, created: true };
  }
}
