import type http from "node:http";

// Headers that describe one hop (RFC 9110 §7.6.1) or carry credentials, never forwarded; and
// accept-encoding, so answers come back uncompressed and their usage can be metered.
const DROPPED = ["connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host", "x-api-key", "authorization", "accept-encoding", "content-length"];

// Betas that let Anthropic's servers reach out (MCP servers, fetch, search, code containers,
// uploaded files, skills): a command in the jail holding the token must not switch them on.
const REACHING_BETAS = ["mcp-client", "code-execution", "files-api", "web-fetch", "web-search", "skills", "container"];

// Answer headers the jail may see: what the SDK needs to read the answer, pace itself and retry.
// Everything else (anthropic-organization-id, cookies, tracing) stays in the worker.
const PASSED_BACK = ["content-type", "content-encoding", "request-id", "retry-after", "x-should-retry"];

// Server tools that only look inside the request itself (tool search over the offered tools);
// every other typed tool (web_fetch, web_search, code_execution, bash_*, computer_*, mcp_toolset…)
// is refused.
const HARMLESS_TOOL_TYPE = /^(custom|tool_search_tool_(regex|bm25)(_\d+)?)$/;

/** The headers to send upstream: hop-by-hop ones (and those the Connection header names), credentials and reaching betas dropped. */
export function forwardHeaders(incoming: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = { ...incoming };
  const named = String(incoming.connection ?? "")
    .split(",")
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean);
  for (const name of [...DROPPED, ...named]) delete headers[name];
  const betas = filterBetas(incoming["anthropic-beta"]);
  if (betas) headers["anthropic-beta"] = betas;
  else delete headers["anthropic-beta"];
  return headers;
}

/** The anthropic-beta values that enable nothing reaching outside the request, comma-joined; undefined when none is left. */
export function filterBetas(header: string | string[] | undefined): string | undefined {
  const values = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v && !REACHING_BETAS.some((b) => v.toLowerCase().includes(b)));
  return values.length ? values.join(",") : undefined;
}

/** The answer headers passed back to the jail (an allowlist). */
export function responseHeaders(upstream: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value !== undefined && (PASSED_BACK.includes(name) || name.startsWith("anthropic-ratelimit-"))) out[name] = value;
  }
  return out;
}

/**
 * Why a Messages (or count_tokens) body must not pass, or null: anything that makes Anthropic's
 * servers fetch or run something on the agent's behalf (MCP servers, a code container, server
 * tools, files or URLs as sources) would be a way out of the sandbox's network rules.
 */
export function refuseBody(body: unknown): string | null {
  if (!body || typeof body !== "object" || Array.isArray(body)) return "the body is not a JSON object";
  const b = body as Record<string, unknown>;
  if ("mcp_servers" in b) return "mcp_servers are not allowed";
  if ("container" in b) return "container is not allowed";
  if (b.tools !== undefined && !Array.isArray(b.tools)) return "tools must be a list";
  for (const tool of (b.tools as unknown[] | undefined) ?? []) {
    const type = (tool as { type?: unknown } | null)?.type;
    if (type !== undefined && type !== null && !HARMLESS_TOOL_TYPE.test(String(type))) return `server tool "${String(type)}" is not allowed`;
  }
  return refuseSource(b.messages) ?? refuseSource(b.system);
}

/** Finds a content block whose source makes Anthropic fetch something (a URL, an uploaded file), at any depth. */
function refuseSource(value: unknown, depth = 0): string | null {
  // JSON.parse output is a tree; the depth guard only bounds the work on absurd nesting.
  if (depth > 64 || !value || typeof value !== "object") return depth > 64 ? "content is nested too deeply" : null;
  if (Array.isArray(value)) {
    for (const v of value) {
      const r = refuseSource(v, depth + 1);
      if (r) return r;
    }
    return null;
  }
  const o = value as Record<string, unknown>;
  if ("file_id" in o) return "file_id references (Files API) are not allowed";
  const source = o.source as { type?: unknown } | undefined;
  if (source && typeof source === "object" && (source.type === "url" || source.type === "file")) {
    return `a ${String(o.type ?? "content")} block with a ${String(source.type)} source is not allowed`;
  }
  for (const v of Object.values(o)) {
    const r = refuseSource(v, depth + 1);
    if (r) return r;
  }
  return null;
}
