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
 * - `store.users | teams | workflowStates | issueLabels | issues | projects | comments | attachments` are
 *   `Map<id, plainObject>` in insertion order (see `types.ts` for shapes); `store.organization` and
 *   `store.viewer` (id `store.viewerId`) always exist. Entities may be read or mutated directly; lists are
 *   returned in insertion order (`orderBy`/`sort` are ignored) and hide `archivedAt` entities unless
 *   `includeArchived`.
 * - `fake.requests` records every POST (also faulted/unauthenticated ones); reset with `requests.length = 0`.
 *   `operationName` comes from the document when the client doesn't send one (the SDK never does; its
 *   operation names are e.g. "issue", "issues", "updateIssue", "createComment", "attachmentLinkURL").
 * - Seeding: `seedTeam` (with Linear's default 7-state workflow), `seedWorkflowState`, `seedLabel`,
 *   `seedProject`, `seedIssue` (identifier `KEY-N`, default state = first backlog), `seedUser`,
 *   `addComment`, `upsertAttachment` (unique per issueId+url).
 * - Getters: `getIssue(uuidOrIdentifier)`, `getTeam(idOrKey)`, `statesFor(teamId)`,
 *   `findState(teamId, { name?, type? })`, `findLabel(name)`, `commentsFor(issueId)`, `attachmentsFor(issueId)`.
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
  FakeOrganization,
  FakeProject,
  FakeTeam,
  FakeUser,
  FakeWorkflowState,
  WorkflowStateType,
} from "./types.js";
