import { randomUUID } from "node:crypto";
import {
  type GraphQLFieldResolver,
  type GraphQLOutputType,
  type GraphQLTypeResolver,
  getNamedType,
  isAbstractType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from "graphql";
import { notImplemented } from "./errors.js";
import { connectionOf } from "./filter.js";
import type { LinearStore } from "./store.js";
import type { Entity } from "./types.js";

/** `viewerId`: the user an app token acts as (default: the API key's user, `store.viewerId`). */
export type FakeContext = { store: LinearStore; viewerId?: string };
export type Resolver = GraphQLFieldResolver<Record<string, unknown>, FakeContext, Record<string, unknown>>;
export type ResolverMap = Record<string, Record<string, Resolver>>;
/** Items a `XConnection` field of a parent object ranges over (before filter/pagination). */
export type ConnectionScopes = Record<
  string,
  (store: LinearStore, parent: Record<string, unknown>) => Entity[]
>;

const EPOCH = new Date(0).toISOString();

function scalarDefault(name: string, source: Record<string, unknown> | undefined): unknown {
  switch (name) {
    case "ID":
    case "UUID":
      return randomUUID();
    case "Boolean":
      return false;
    case "Int":
    case "Float":
      return 0;
    case "DateTime":
    case "DateTimeOrDuration":
      return typeof source?.createdAt === "string" ? source.createdAt : EPOCH;
    case "TimelessDate":
    case "TimelessDateOrDuration":
      return "1970-01-01";
    case "Duration":
      return "P0D";
    case "JSON":
    case "JSONObject":
      return {};
    default:
      return "";
  }
}

/**
 * Value for a field the store object lacks: null when nullable; otherwise a type-appropriate placeholder
 * ([] for lists, an empty object resolved recursively for object types, the first value for enums).
 */
export function synthesize(type: GraphQLOutputType, source: Record<string, unknown> | undefined): unknown {
  if (!isNonNullType(type)) return null;
  const inner = type.ofType;
  if (isListType(inner)) return [];
  if (isScalarType(inner)) return scalarDefault(inner.name, source);
  if (isEnumType(inner)) return inner.getValues()[0]?.value ?? null;
  if (isObjectType(inner)) return {};
  if (isAbstractType(inner)) return {};
  return null;
}

/** Concrete type for interface/union positions: explicit `__typename`, else the first possible type. */
export const typeResolver: GraphQLTypeResolver<unknown, FakeContext> = (value, _ctx, info, abstractType) => {
  const typename = (value as { __typename?: unknown } | null)?.__typename;
  if (typeof typename === "string") return typename;
  return info.schema.getPossibleTypes(abstractType)[0]?.name;
};

/**
 * The field resolver used for every field:
 * 1. an explicit resolver from `resolvers[ParentType][field]`;
 * 2. root Query/Mutation fields without one fail with "not implemented";
 * 3. the store object's own property;
 * 4. a to-one relation through `<field>Id` (e.g. Issue.team via `teamId`), looked up in the store;
 * 5. `XConnection` fields via `scopes["Parent.field"]` (filter + pagination applied);
 * 6. a synthesized default (see `synthesize`).
 */
export function createFieldResolver(resolvers: ResolverMap, scopes: ConnectionScopes): Resolver {
  return (source, args, ctx, info) => {
    const parent = info.parentType.name;
    const field = info.fieldName;
    const explicit = resolvers[parent]?.[field];
    if (explicit) return explicit(source, args, ctx, info);
    if (parent === "Query" || parent === "Mutation" || parent === "Subscription") {
      throw notImplemented(`${parent}.${field}`);
    }
    const own = source && Object.hasOwn(source, field) ? source[field] : undefined;
    if (own !== undefined && (own !== null || !isNonNullType(info.returnType))) return own;
    const named = getNamedType(info.returnType);
    const isList = isListType(isNonNullType(info.returnType) ? info.returnType.ofType : info.returnType);
    if (isObjectType(named) && !isList) {
      const id = source && Object.hasOwn(source, `${field}Id`) ? source[`${field}Id`] : undefined;
      if (typeof id === "string") {
        const target = ctx.store.getByType(named.name, id);
        if (target) return target;
      }
      const scope = scopes[`${parent}.${field}`];
      if (scope && named.name.endsWith("Connection")) {
        const kind = named.name.slice(0, -"Connection".length);
        return connectionOf(ctx.store, kind, scope(ctx.store, source), args);
      }
    }
    return synthesize(info.returnType, source);
  };
}
