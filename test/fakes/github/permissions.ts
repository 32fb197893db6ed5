/**
 * What an installation token needs for a repository route, as GitHub checks it: each REST resource is
 * guarded by one App permission (read for GET, write otherwise), and a token without it gets 403
 * "Resource not accessible by integration". User tokens are governed by collaborator roles instead.
 */
import type { AppPermissions } from "./state.js";

export type PermissionLevel = "read" | "write";
/** Any one of these grants the request (GitHub takes Issues or Pull requests for a pull request's conversation). */
export type PermissionNeed = Array<{ name: string; level: PermissionLevel }>;

const REPO_PREFIX = /^\/repos\/[^/]+\/[^/]+/;

/** The App permissions a request to `pathname` needs, or null when the fake does not guard it by permission. */
export function requiredPermission(method: string, pathname: string): PermissionNeed | null {
  const prefix = REPO_PREFIX.exec(pathname);
  if (!prefix) return null;
  const rest = pathname.slice(prefix[0].length).replace(/\/$/, "");
  const level: PermissionLevel = method === "GET" || method === "HEAD" ? "read" : "write";
  const need = (...names: string[]): PermissionNeed => names.map((name) => ({ name, level }));
  if (rest === "" || rest.startsWith("/collaborators/")) return [{ name: "metadata", level: "read" }];
  // App routes (JWT) carry no installation token.
  if (rest === "/installation") return null;
  if (/^\/pulls\/\d+\/merge$/.test(rest) && level === "write") return need("contents");
  if (rest.startsWith("/pulls")) return need("pull_requests");
  if (rest.startsWith("/issues")) return need("issues", "pull_requests");
  if (rest.startsWith("/statuses/") || /^\/commits\/[^/]+\/status(es)?$/.test(rest)) return need("statuses");
  if (rest.startsWith("/check-runs") || /^\/commits\/[^/]+\/check-runs$/.test(rest)) return need("checks");
  if (rest.startsWith("/contents") || rest.startsWith("/git/") || rest.startsWith("/branches")) return need("contents");
  return null;
}

/** Whether `granted` satisfies one of `need` (write implies read). */
export function grants(granted: AppPermissions, need: PermissionNeed): boolean {
  return need.some(({ name, level }) => granted[name] === "write" || (level === "read" && granted[name] === "read"));
}

/** The `x-accepted-github-permissions` value GitHub sends with a refusal, e.g. `issues=write; pull_requests=write`. */
export function acceptedPermissions(need: PermissionNeed): string {
  return need.map(({ name, level }) => `${name}=${level}`).join("; ");
}
