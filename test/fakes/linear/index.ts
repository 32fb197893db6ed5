/**
 * Loopback fake of Linear's GraphQL API for tests, driven by the REAL `@linear/sdk`:
 *
 * ```ts
 * const fake = await startLinearFake();
 * const team = fake.store.seedTeam({ key: "ENG", name: "Engineering" });
 * const agent = fake.store.seedLabel({ name: "agent" });
 * const issue = fake.store.seedIssue({ teamId: team.id, title: "Fix it", labelIds: [agent.id] });
 * const client = new LinearClient({ apiKey: fake.apiKey, apiUrl: fake.url });
 * await client.issue("ENG-1");
 * await fake.close();
 * ```
 *
 * Requests are parsed and validated with graphql-js against Linear's real schema
 * (`/work/shared/linear/schema.graphql`, built once per process) and executed over an in-memory
 * {@link LinearStore}:
 * - `store.users | teams | workflowStates | issueLabels | issues | projects | comments | attachments |
 *   issueRelations` are
 *   `Map<id, plainObject>` in insertion order (see `types.ts` for shapes); `store.organization` and
 *   `store.viewer` (id `store.viewerId`) always exist. Entities may be read or mutated directly; lists are
 *   returned in insertion order (`orderBy`/`sort` are ignored) and hide `archivedAt` entities unless
 *   `includeArchived`.
 * - `fake.requests` records every POST (also faulted/unauthenticated ones); reset with `requests.length = 0`.
 *   `operationName` comes from the document when the client doesn't send one (the SDK never does; its
 *   operation names are e.g. "issue", "issues", "updateIssue", "createComment", "attachmentLinkURL").
 * - Seeding: `seedTeam` (with Linear's default 7-state workflow), `seedWorkflowState`, `seedLabel`,
 *   `seedProject`, `seedIssue` (identifier `KEY-N`, default state = first backlog; `parentId`, `creatorId`
 *   (default the viewer), `delegateId`), `seedUser`, `addComment`, `upsertAttachment` (unique per
 *   issueId+url), `addRelation({ issueId, relatedIssueId, type, id? })` (UUIDs or identifiers; type
 *   "blocks" | "duplicate" | "related" | "similar"; for "blocks", issueId blocks relatedIssueId).
 * - Getters: `getIssue(uuidOrIdentifier)`, `getTeam(idOrKey)`, `statesFor(teamId)`,
 *   `findState(teamId, { name?, type? })`, `findLabel(name)`, `commentsFor(issueId)`, `attachmentsFor(issueId)`,
 *   `childrenOf(issueId)` (sub-issues), `relationsOf(issueId)` (it is the source: the issues it blocks),
 *   `inverseRelationsOf(issueId)` (it is the target: its blockers).
 * - Sub-issues and relations over GraphQL: `issueCreate` honours `id` (a taken id fails INVALID_INPUT
 *   "An issue with this id already exists."), `parentId` (UUID or identifier), `teamId`, `projectId`,
 *   `labelIds`, `delegateId`, `stateId`, `title`, `description`; its creator is the caller (the API key's
 *   user, or the app user for an app token); `commentCreate` likewise writes as the caller and refuses a
 *   taken `id` ("A comment with this id already exists."). `issueRelationCreate` (client `id`, a taken one fails the same
 *   way: "An issue relation with this id already exists."; `issueId`/`relatedIssueId` as UUID or identifier;
 *   an issue related to itself is refused), `issueRelationUpdate`, `issueRelationDelete`, `issueRelation(id)`,
 *   `issueRelations`; `Issue.parent | children | relations | inverseRelations`, `IssueRelation.issue |
 *   relatedIssue`; IssueFilter `parent`, `children`, `delegate`, `hasBlockedByRelations`,
 *   `hasBlockingRelations`, `hasDuplicateRelations`, `hasRelatedRelations`.
 *
 * Fields the store objects lack are synthesized (null when nullable, type-appropriate placeholders when
 * non-null), so the SDK's large fragments always execute. Root Query/Mutation fields without a resolver
 * fail with a "not implemented" GraphQL error (extensions.type "internal error").
 */

export { StoreCollections } from "./collections.js";
export { getLinearSchema } from "./schema.js";
export type { FaultKind, LinearFake, LinearFakeRequest } from "./server.js";
export { startLinearFake } from "./server.js";
export { FakeOAuth, type FakeTokenRequest } from "./oauth.js";
export { LinearStore } from "./store.js";
export type {
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
  IssueRelationType,
  WorkflowStateType,
} from "./types.js";
