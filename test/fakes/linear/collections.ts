import { randomUUID } from "node:crypto";
import type { FakeAgentActivity, FakeAgentSession } from "./agent-sessions.js";
import type {
  Entity,
  FakeAttachment,
  FakeComment,
  FakeIssue,
  FakeIssueLabel,
  FakeIssueRelation,
  FakeOrganization,
  FakeProject,
  FakeTeam,
  FakeUser,
  FakeWorkflowState,
  WorkflowStateType,
} from "./types.js";

/**
 * The fake workspace's collections plus read helpers. Every collection is a `Map<id, entity>` in insertion
 * order; entities are plain objects tests may read or mutate directly. Seeding lives in `LinearStore`.
 */
export class StoreCollections {
  readonly organization: FakeOrganization;
  readonly users = new Map<string, FakeUser>();
  readonly teams = new Map<string, FakeTeam>();
  readonly workflowStates = new Map<string, FakeWorkflowState>();
  readonly issueLabels = new Map<string, FakeIssueLabel>();
  readonly issues = new Map<string, FakeIssue>();
  readonly projects = new Map<string, FakeProject>();
  readonly comments = new Map<string, FakeComment>();
  readonly attachments = new Map<string, FakeAttachment>();
  readonly issueRelations = new Map<string, FakeIssueRelation>();
  readonly agentSessions = new Map<string, FakeAgentSession>();
  readonly agentActivities = new Map<string, FakeAgentActivity>();
  /** The user the API key belongs to (`viewer`). */
  viewerId = "";
  /** Incremented by every mutation; echoed as `lastSyncId` in payloads. */
  lastSyncId = 1000;
  private lastTime = 0;

  constructor() {
    const createdAt = this.now();
    this.organization = {
      id: randomUUID(),
      name: "Fake Org",
      urlKey: "fake",
      createdAt,
      updatedAt: createdAt,
    };
  }

  get viewer(): FakeUser {
    return this.users.get(this.viewerId)!;
  }

  /** Monotonic ISO timestamp (strictly increasing, so `updatedAt` always changes on mutation). */
  now(): string {
    this.lastTime = Math.max(Date.now(), this.lastTime + 1);
    return new Date(this.lastTime).toISOString();
  }

  nextSyncId(): number {
    this.lastSyncId += 1;
    return this.lastSyncId;
  }

  /** Bump `updatedAt` on an entity. */
  touch<T extends { updatedAt: string }>(entity: T): T {
    entity.updatedAt = this.now();
    return entity;
  }

  /** Find an issue by UUID or by identifier ("ENG-12", case-insensitive). */
  getIssue(idOrIdentifier: string): FakeIssue | undefined {
    const direct = this.issues.get(idOrIdentifier);
    if (direct) return direct;
    const wanted = idOrIdentifier.toUpperCase();
    return [...this.issues.values()].find((i) => i.identifier.toUpperCase() === wanted);
  }

  /** Find a team by UUID or key. */
  getTeam(idOrKey: string): FakeTeam | undefined {
    return this.teams.get(idOrKey) ?? [...this.teams.values()].find((t) => t.key === idOrKey);
  }

  statesFor(teamId: string): FakeWorkflowState[] {
    return [...this.workflowStates.values()].filter((s) => s.teamId === teamId);
  }

  /** First state of a team matching name and/or type. */
  findState(teamId: string, by: { name?: string; type?: WorkflowStateType }): FakeWorkflowState | undefined {
    return this.statesFor(teamId).find(
      (s) => (by.name === undefined || s.name === by.name) && (by.type === undefined || s.type === by.type),
    );
  }

  findLabel(name: string): FakeIssueLabel | undefined {
    return [...this.issueLabels.values()].find((l) => l.name === name);
  }

  commentsFor(issueId: string): FakeComment[] {
    return [...this.comments.values()].filter((c) => c.issueId === issueId);
  }

  attachmentsFor(issueId: string): FakeAttachment[] {
    return [...this.attachments.values()].filter((a) => a.issueId === issueId);
  }

  /** Sub-issues of an issue (`parentId` = its UUID), in insertion order. */
  childrenOf(issueId: string): FakeIssue[] {
    return [...this.issues.values()].filter((i) => i.parentId === issueId);
  }

  /** Relations whose source is the issue (`Issue.relations`): for "blocks", the issues it blocks. */
  relationsOf(issueId: string): FakeIssueRelation[] {
    return [...this.issueRelations.values()].filter((r) => r.issueId === issueId);
  }

  /** Relations whose target is the issue (`Issue.inverseRelations`): for "blocks", its blockers. */
  inverseRelationsOf(issueId: string): FakeIssueRelation[] {
    return [...this.issueRelations.values()].filter((r) => r.relatedIssueId === issueId);
  }

  /** The collection holding entities of a GraphQL type, if the fake stores that type. */
  collectionFor(typeName: string): Map<string, Entity> | undefined {
    const map: Record<string, Map<string, unknown>> = {
      User: this.users,
      Team: this.teams,
      WorkflowState: this.workflowStates,
      IssueLabel: this.issueLabels,
      Issue: this.issues,
      Project: this.projects,
      Comment: this.comments,
      Attachment: this.attachments,
      IssueRelation: this.issueRelations,
      AgentSession: this.agentSessions,
      AgentActivity: this.agentActivities,
    };
    return map[typeName] as Map<string, Entity> | undefined;
  }

  getByType(typeName: string, id: string): Entity | undefined {
    if (typeName === "Organization") return this.organization.id === id ? this.organization : undefined;
    if (typeName === "Issue") return this.getIssue(id);
    if (typeName === "Team") return this.getTeam(id);
    return this.collectionFor(typeName)?.get(id);
  }
}
