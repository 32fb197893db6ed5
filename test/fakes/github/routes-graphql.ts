/**
 * GitHub's GraphQL endpoint, for the one mutation REST lacks: markPullRequestReadyForReview.
 * Documents are parsed with graphql-js; anything else answers as GitHub does for a field it does
 * not know (HTTP 200 with `errors`), so a new use shows up as a clear failure in tests.
 */
import { type FieldNode, Kind, type OperationDefinitionNode, parse, valueFromASTUntyped } from "graphql";
import type { Ctx, Route, RouteResult } from "./http.js";
import { route } from "./http.js";
import { nodeId, permissionOf } from "./serializers.js";

const gqlError = (message: string, extra: Record<string, unknown> = {}): RouteResult => ({
  status: 200,
  body: { errors: [{ message, ...extra }] },
});

function markReady(ctx: Ctx, field: FieldNode, variables: Record<string, unknown>): RouteResult {
  const arg = field.arguments?.find((a) => a.name.value === "input");
  const input = (arg ? valueFromASTUntyped(arg.value, variables) : {}) as { pullRequestId?: string; clientMutationId?: string };
  const path = [field.alias?.value ?? field.name.value];
  const pull = ctx.state.pulls.find((p) => nodeId("PR", p.id) === input.pullRequestId);
  if (!pull) {
    return gqlError(`Could not resolve to a node with the global id of '${input.pullRequestId}'`, { type: "NOT_FOUND", path });
  }
  const repo = ctx.state.repos.get(pull.repoKey);
  const perm = repo ? permissionOf(ctx.state, repo, ctx.login) : "none";
  // A token below write access is refused, as GitHub refuses an integration without pull requests: write.
  if (perm === "read" || perm === "triage") {
    return gqlError("Resource not accessible by integration", { type: "FORBIDDEN", path });
  }
  pull.draft = false;
  pull.updatedAt = new Date().toISOString();
  return { status: 200, body: { data: { [path[0] as string]: { clientMutationId: input.clientMutationId ?? null } } } };
}

async function graphql(ctx: Ctx): Promise<RouteResult> {
  const query = typeof ctx.body.query === "string" ? ctx.body.query : "";
  const variables = (ctx.body.variables ?? {}) as Record<string, unknown>;
  let operation: OperationDefinitionNode | undefined;
  try {
    operation = parse(query).definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  } catch (err) {
    return gqlError((err as Error).message);
  }
  const field = operation?.selectionSet.selections[0];
  if (operation?.operation === "mutation" && field?.kind === Kind.FIELD && field.name.value === "markPullRequestReadyForReview") {
    return markReady(ctx, field, variables);
  }
  const name = field?.kind === Kind.FIELD ? field.name.value : "(none)";
  return gqlError(`Field '${name}' doesn't exist on type '${operation?.operation === "mutation" ? "Mutation" : "Query"}' (not implemented by the fake)`);
}

export function graphqlRoutes(): Route[] {
  return [route("POST", "/graphql", graphql)];
}
