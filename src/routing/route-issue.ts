import type { RepoSettings, Routing } from "./routing-config.js";

/** What routing needs to know about an issue. */
export interface RoutableIssue {
  teamKey: string | null;
  projectName: string | null;
  labelNames: string[];
}

/** Where an issue goes, and which rule sent it there (shown to humans). */
export type RouteResult = { ok: true; repo: RepoSettings; via: string } | { ok: false; reason: string };

const REPO_LABEL = /^repo:\s*([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/i;

/**
 * Picks the repository for an issue: a `repo:owner/name` label wins, then a project route, then a
 * team route, then DEFAULT_REPO. Pure.
 */
export function routeIssue(issue: RoutableIssue, routing: Routing): RouteResult {
  for (const label of issue.labelNames) {
    const m = REPO_LABEL.exec(label.trim());
    if (m) return settle(`${m[1]}/${m[2]}`, routing, `label "${label}"`);
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

function settle(full: string, routing: Routing, via: string): RouteResult {
  const [owner, name] = full.split("/") as [string, string];
  const settings = routing.repos[full.toLowerCase()] ?? routing.defaults;
  return { ok: true, repo: { owner, name, ...settings }, via };
}
