import type { LinearStore } from "./store.js";
import type { Entity } from "./types.js";

type Filter = Record<string, unknown>;
type Relation = { kind: string; one?: (e: Entity) => Entity | undefined; many?: (e: Entity) => Entity[] };

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Relations that filters may traverse, per GraphQL type. Everything else is compared as a plain field. */
function relation(store: LinearStore, kind: string, key: string): Relation | undefined {
  const ref =
    (typeName: string, idKey: string): Relation["one"] =>
    (e) => {
      const id = str(e[idKey]);
      return id ? store.getByType(typeName, id) : undefined;
    };
  const all = (typeName: string) => [...(store.collectionFor(typeName)?.values() ?? [])];
  const childrenOf =
    (typeName: string, idKey: string): Relation["many"] =>
    (e) =>
      all(typeName).filter((c) => c[idKey] === e.id);
  const table: Record<string, Record<string, Relation>> = {
    Issue: {
      team: { kind: "Team", one: ref("Team", "teamId") },
      state: { kind: "WorkflowState", one: ref("WorkflowState", "stateId") },
      project: { kind: "Project", one: ref("Project", "projectId") },
      assignee: { kind: "User", one: ref("User", "assigneeId") },
      delegate: { kind: "User", one: ref("User", "delegateId") },
      creator: { kind: "User", one: ref("User", "creatorId") },
      parent: { kind: "Issue", one: ref("Issue", "parentId") },
      labels: {
        kind: "IssueLabel",
        many: (e) =>
          ((e.labelIds as string[] | undefined) ?? [])
            .map((id) => store.issueLabels.get(id) as Entity | undefined)
            .filter((l): l is Entity => l !== undefined),
      },
      comments: { kind: "Comment", many: childrenOf("Comment", "issueId") },
      attachments: { kind: "Attachment", many: childrenOf("Attachment", "issueId") },
      children: { kind: "Issue", many: childrenOf("Issue", "parentId") },
    },
    IssueRelation: {
      issue: { kind: "Issue", one: ref("Issue", "issueId") },
      relatedIssue: { kind: "Issue", one: ref("Issue", "relatedIssueId") },
    },
    WorkflowState: {
      team: { kind: "Team", one: ref("Team", "teamId") },
      issues: { kind: "Issue", many: childrenOf("Issue", "stateId") },
    },
    IssueLabel: { team: { kind: "Team", one: ref("Team", "teamId") } },
    Team: { issues: { kind: "Issue", many: childrenOf("Issue", "teamId") } },
    Project: { issues: { kind: "Issue", many: childrenOf("Issue", "projectId") } },
    Comment: {
      issue: { kind: "Issue", one: ref("Issue", "issueId") },
      user: { kind: "User", one: ref("User", "userId") },
      parent: { kind: "Comment", one: ref("Comment", "parentId") },
    },
    Attachment: {
      issue: { kind: "Issue", one: ref("Issue", "issueId") },
      creator: { kind: "User", one: ref("User", "creatorId") },
    },
  };
  return table[kind]?.[key];
}

/**
 * IssueFilter's `has…Relations` (RelationExistsComparator `{ eq, neq }`): whether the issue is blocked
 * (a "blocks" relation points at it), blocks another, or has duplicate / related relations either way.
 */
function hasRelation(store: LinearStore, key: string, issueId: string): boolean | undefined {
  const rels = [...store.issueRelations.values()];
  const out = rels.filter((r) => r.issueId === issueId);
  const into = rels.filter((r) => r.relatedIssueId === issueId);
  switch (key) {
    case "hasBlockedByRelations":
      return into.some((r) => r.type === "blocks");
    case "hasBlockingRelations":
      return out.some((r) => r.type === "blocks");
    case "hasDuplicateRelations":
      return [...out, ...into].some((r) => r.type === "duplicate");
    case "hasRelatedRelations":
      return [...out, ...into].some((r) => r.type === "related");
    default:
      return undefined;
  }
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}

/** Evaluate a Linear comparator (`{ eq, neq, in, nin, contains..., null, lt, gt, ... }`) against a value. */
export function matchComparator(value: unknown, cmp: Filter): boolean {
  const lower = (v: unknown) => String(v ?? "").toLowerCase();
  const s = String(value ?? "");
  for (const [op, arg] of Object.entries(cmp)) {
    if (arg === undefined) continue;
    const ok = (() => {
      switch (op) {
        case "eq":
          return value === arg;
        case "neq":
          return value !== arg;
        case "in":
          return Array.isArray(arg) && arg.includes(value);
        case "nin":
          return Array.isArray(arg) && !arg.includes(value);
        case "eqIgnoreCase":
          return lower(value) === lower(arg);
        case "neqIgnoreCase":
          return lower(value) !== lower(arg);
        case "contains":
          return s.includes(String(arg));
        case "containsIgnoreCase":
        case "containsIgnoreCaseAndAccent":
          return lower(value).includes(lower(arg));
        case "notContains":
          return !s.includes(String(arg));
        case "notContainsIgnoreCase":
          return !lower(value).includes(lower(arg));
        case "startsWith":
          return s.startsWith(String(arg));
        case "startsWithIgnoreCase":
          return lower(value).startsWith(lower(arg));
        case "notStartsWith":
          return !s.startsWith(String(arg));
        case "endsWith":
          return s.endsWith(String(arg));
        case "notEndsWith":
          return !s.endsWith(String(arg));
        case "null":
          return (value === null || value === undefined) === arg;
        case "lt":
          return value != null && compare(value, arg) < 0;
        case "lte":
          return value != null && compare(value, arg) <= 0;
        case "gt":
          return value != null && compare(value, arg) > 0;
        case "gte":
          return value != null && compare(value, arg) >= 0;
        default:
          return true; // unknown operator: ignored
      }
    })();
    if (!ok) return false;
  }
  return true;
}

function matchCollection(store: LinearStore, kind: string, items: Entity[], filter: Filter): boolean {
  const rest: Filter = {};
  for (const [key, cond] of Object.entries(filter)) {
    if (cond === undefined || cond === null) continue;
    if (key === "some" && !items.some((i) => matchFilter(store, kind, i, cond as Filter))) return false;
    else if (key === "every" && !items.every((i) => matchFilter(store, kind, i, cond as Filter)))
      return false;
    else if (key === "length" && !matchComparator(items.length, cond as Filter)) return false;
    else if (key === "and" && !(cond as Filter[]).every((f) => matchCollection(store, kind, items, f)))
      return false;
    else if (key === "or" && !(cond as Filter[]).some((f) => matchCollection(store, kind, items, f)))
      return false;
    else if (!["some", "every", "length", "and", "or"].includes(key)) rest[key] = cond;
  }
  // Plain entity keys on a collection filter mean "some item matches" (Linear semantics).
  return Object.keys(rest).length === 0 || items.some((i) => matchFilter(store, kind, i, rest));
}

/**
 * Evaluate a Linear filter input (IssueFilter, WorkflowStateFilter, ...) against a store entity.
 * Supports and/or, comparators on fields, to-one relations (with `null`), and collection filters
 * (some/every/length). Keys naming neither a relation nor a field the entity has are ignored.
 */
export function matchFilter(
  store: LinearStore,
  kind: string,
  entity: Entity,
  filter: Filter | null | undefined,
): boolean {
  if (!filter) return true;
  for (const [key, cond] of Object.entries(filter)) {
    if (cond === undefined || cond === null) continue;
    if (key === "and") {
      if (!(cond as Filter[]).every((f) => matchFilter(store, kind, entity, f))) return false;
      continue;
    }
    if (key === "or") {
      if (!(cond as Filter[]).some((f) => matchFilter(store, kind, entity, f))) return false;
      continue;
    }
    const c = cond as Filter;
    const rel = relation(store, kind, key);
    if (rel?.many) {
      if (!matchCollection(store, rel.kind, rel.many(entity), c)) return false;
    } else if (rel?.one) {
      const target = rel.one(entity);
      const { null: isNull, ...sub } = c;
      if (typeof isNull === "boolean" && (target === undefined) !== isNull) return false;
      if (Object.keys(sub).length > 0 && (!target || !matchFilter(store, rel.kind, target, sub)))
        return false;
    } else if (kind === "Issue" && hasRelation(store, key, entity.id) !== undefined) {
      if (!matchComparator(hasRelation(store, key, entity.id), c)) return false;
    } else if (key === "id" && kind === "Issue") {
      // Linear's IssueIDComparator accepts UUIDs or identifiers.
      if (!matchComparator(entity.id, c) && !matchComparator(entity.identifier, c)) return false;
    } else if (key in entity || "null" in c) {
      if (!matchComparator(entity[key], c)) return false;
    }
  }
  return true;
}

export type ConnectionArgs = {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  includeArchived?: boolean | null;
};

/** Relay-style connection over `items` (cursor = entity id). `first` defaults to 50. */
export function paginate<T extends { id: string }>(items: T[], args: ConnectionArgs) {
  let start = 0;
  let end = items.length;
  if (args.after) {
    const i = items.findIndex((x) => x.id === args.after);
    if (i >= 0) start = i + 1;
  }
  if (args.before) {
    const i = items.findIndex((x) => x.id === args.before);
    if (i >= 0) end = i;
  }
  if (args.first != null || args.last == null) end = Math.min(end, start + (args.first ?? 50));
  if (args.last != null) start = Math.max(start, end - args.last);
  const nodes = items.slice(start, end);
  return {
    nodes,
    edges: nodes.map((node) => ({ node, cursor: node.id })),
    pageInfo: {
      hasPreviousPage: start > 0,
      hasNextPage: end < items.length,
      startCursor: nodes[0]?.id ?? null,
      endCursor: nodes[nodes.length - 1]?.id ?? null,
    },
  };
}

/** Filter, drop archived entities (unless includeArchived) and paginate. */
export function connectionOf(
  store: LinearStore,
  kind: string,
  items: Entity[],
  args: ConnectionArgs & { filter?: Filter | null },
) {
  const visible = items.filter(
    (e) => (args.includeArchived || !e.archivedAt) && matchFilter(store, kind, e, args.filter),
  );
  return paginate(visible, args);
}
