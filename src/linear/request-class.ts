/**
 * How a Linear request stands in its token's budget: `critical` calls (issue reads, state moves,
 * the PR link, comments, closing activities, stop confirmations) always go first; `status` calls
 * (thoughts, actions, plan updates, progress-comment edits) use what critical calls leave, and
 * those with a coalesce key replace a still-waiting request with the same key (the latest wins).
 */
export interface RequestClass {
  priority: "critical" | "status";
  coalesceKey?: string;
}

const CRITICAL: RequestClass = { priority: "critical" };
const STATUS_ACTIVITIES = new Set(["thought", "action"]);

type Vars = Record<string, unknown> | undefined;

/** Classifies a GraphQL request from its operation and variables (pure). */
export function classifyRequest(document: string, variables: Vars): RequestClass {
  const op = /^\s*(?:query|mutation)\s+(\w+)/.exec(document)?.[1];
  const input = (variables?.input ?? {}) as Record<string, unknown>;
  if (op === "createAgentActivity") {
    const content = (input.content ?? {}) as { type?: unknown };
    if (!STATUS_ACTIVITIES.has(String(content.type))) return CRITICAL;
    // Ephemeral turn chatter replaces itself in Linear too: only the newest matters.
    return input.ephemeral === true ? { priority: "status", coalesceKey: `thought:${String(input.agentSessionId)}` } : { priority: "status" };
  }
  if (op === "updateAgentSession") {
    // External URLs (the PR link) matter; a plan alone is replaced whole by the next one.
    const urls = ["addedExternalUrls", "externalUrls", "removedExternalUrls", "externalLinks"].some((k) => input[k] !== undefined);
    return urls ? CRITICAL : { priority: "status", coalesceKey: `plan:${String(variables?.id)}` };
  }
  // The progress comment is edited in place with the whole body: the newest edit carries all.
  if (op === "updateComment") return { priority: "status", coalesceKey: `comment:${String(variables?.id)}` };
  return CRITICAL;
}
