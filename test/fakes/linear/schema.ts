import { readFileSync } from "node:fs";
import { buildSchema, type GraphQLSchema } from "graphql";

/** Linear's real public schema, shared between worktrees (not copied into the repo). */
export const LINEAR_SCHEMA_URL = new URL("../../../../shared/linear/schema.graphql", import.meta.url);

let cached: GraphQLSchema | undefined;

/** Build Linear's GraphQL schema once per process (the SDL is ~1.2 MB). */
export function getLinearSchema(): GraphQLSchema {
  if (!cached) {
    cached = buildSchema(readFileSync(LINEAR_SCHEMA_URL, "utf8"), { assumeValidSDL: true });
  }
  return cached;
}
