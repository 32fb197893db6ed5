import type { RepoSettings, Routing } from "./routing-config.js";

/** What routing needs to know about an issue. */
export interface RoutableIssue {
  teamKey: string | null;
  projectName: string | null;
  labelNames: string[];
}

/** Where an issue goes, and which rule sent it there (shown to humans). */
export type RouteResult = { ok: true; repo: RepoSettings; via: string } | { ok: false; reason: string };

/** A `repo:owner/name` label; groups 1 and 2 are the owner and the name. */
export const REPO_LABEL = /^repo:\s*([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/i;

/**
 * Picks the repository for an issue: a `repo:owner/name` label wins, then a project route, then a
 * team route, then DEFAULT_REPO. A label may only name a repository the routing file or DEFAULT_REPO
 * names, so labelling an issue cannot point the agent at whatever else the token can push to. Pure.
 */
export function routeIssue(issue: RoutableIssue, routing: Routing): RouteResult {
  for (const label of issue.labelNames) {
    const m = REPO_LABEL.exec(label.trim());
    if (m) return byLabel(`${m[1]}/${m[2]}`, label, routing);
  }
  const project = issue.projectName?.toLowerCase();
  const byProject = project ? routing.routes.find((r) => r.project?.toLowerCase() === project) : undefined;
  if (byProject) return settle(byProject.repo, routing, `project "${issue.projectName}"`);
  const team = issue.teamKey?.toLowerCase();
  const byTeam = team ? routing.routes.find((r) => !r.project && r.team?.toLowerCase() === team) : undefined;
  if (byTeam) return settle(byTeam.repo, routing, `team ${issue.teamKey}`);
  if (routing.defaultRepo) return settle(routing.defaultRepo, routing, "DEFAULT_REPO");
  return {
    ok: false,
    reason:
      "No repository is configured for this issue. Add a label `repo:owner/name`, or route its team or project " +
      "in the AGENT_WORKFORCE_CONFIG file, or set DEFAULT_REPO; then re-add the agent label.",
  };
}

/** The route to `full` (owner/name) with its configured settings. */
export function settle(full: string, routing: Routing, via: string): RouteResult {
  const [owner, name] = full.split("/") as [string, string];
  const settings = routing.repos[full.toLowerCase()] ?? routing.defaults;
  return { ok: true, repo: { owner, name, ...settings }, via };
}

/** Repositories an issue may be sent to, lower-cased name → configured spelling. */
export function allowedRepos(routing: Routing): Map<string, string> {
  const allowed = new Map<string, string>();
  const names = [routing.defaultRepo, ...routing.routes.map((r) => r.repo), ...Object.keys(routing.repos)];
  for (const name of names) {
    if (name && !allowed.has(name.toLowerCase())) allowed.set(name.toLowerCase(), name);
  }
  return allowed;
}

function byLabel(full: string, label: string, routing: Routing): RouteResult {
  const allowed = allowedRepos(routing);
  const known = allowed.get(full.toLowerCase());
  if (known) return settle(known, routing, `label "${label}"`);
  const howToAdd =
    `To allow it, list it under \`repos:\` in the AGENT_WORKFORCE_CONFIG file (or route a team or project to ` +
    `it there), restart the service, then re-add the agent label.`;
  const list = [...allowed.values()].sort((a, b) => a.localeCompare(b)).join(", ");
  return {
    ok: false,
    reason: allowed.size
      ? `The label \`repo:${full}\` names a repository agents may not work in (allowed: ${list}). ` +
        `Use one of those, or remove the label to route by team, project or DEFAULT_REPO. ${howToAdd}`
      : `The label \`repo:${full}\` names a repository agents may not work in. No repository is allowed yet: ` +
        `set DEFAULT_REPO or configure AGENT_WORKFORCE_CONFIG. ${howToAdd}`,
  };
}
