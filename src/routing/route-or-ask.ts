import { allowedRepos, REPO_LABEL, type RoutableIssue, type RouteResult, settle } from "./route-issue.js";
import type { Routing } from "./routing-config.js";

/** Routing could not pick one repository: the candidates to offer a person, and why it asks. */
export interface RepoAsk {
  /** owner/name as configured, sorted. */
  candidates: string[];
  why: string;
}

/** A route, a reason no repository can be offered at all, or a question for a person. */
export type SessionRoute = RouteResult | { ok: false; ask: RepoAsk };

/**
 * Routes an issue on the agent-session path, where a person can be asked: where `routeIssue`
 * would guess (several `repo:` labels, several routes for one project or team) or give up (no
 * route, a label naming a repository agents may not use), it returns the candidates to ask
 * about instead. `chosen` is the repository a person picked for the issue before: it wins over
 * project, team and DEFAULT_REPO routes (they are fallbacks, the choice is about this issue) but
 * not over an unambiguous `repo:` label, which is a later, explicit statement. Pure.
 */
export function routeOrAsk(issue: RoutableIssue, routing: Routing, chosen: string | null): SessionRoute {
  const allowed = allowedRepos(routing);
  const choice = chosen ? allowed.get(chosen.toLowerCase()) : undefined;
  const fromLabels = byLabels(issue.labelNames, allowed);
  if (fromLabels) return resolve(fromLabels, routing, choice);
  if (choice) return settle(choice, routing, "the repository chosen in the agent session");
  const project = issue.projectName?.toLowerCase();
  const projectRepos = project ? distinct(routing.routes.filter((r) => r.project?.toLowerCase() === project).map((r) => r.repo)) : [];
  if (projectRepos.length > 0) return resolve({ repos: projectRepos, why: `the routes for project "${issue.projectName}" name several repositories`, via: `project "${issue.projectName}"` }, routing);
  const team = issue.teamKey?.toLowerCase();
  const teamRepos = team ? distinct(routing.routes.filter((r) => !r.project && r.team?.toLowerCase() === team).map((r) => r.repo)) : [];
  if (teamRepos.length > 0) return resolve({ repos: teamRepos, why: `the routes for team ${issue.teamKey} name several repositories`, via: `team ${issue.teamKey}` }, routing);
  if (routing.defaultRepo) return settle(routing.defaultRepo, routing, "DEFAULT_REPO");
  if (allowed.size === 0) {
    return { ok: false, reason: "No repository is configured for agents: set DEFAULT_REPO or list repositories in the AGENT_WORKFORCE_CONFIG file, then ask again." };
  }
  return { ok: false, ask: { candidates: sorted([...allowed.values()]), why: "no `repo:` label, project route or team route names a repository for it, and no DEFAULT_REPO is set" } };
}

/** What the issue's `repo:` labels point at: one or more repositories (or all allowed ones) and why. */
interface Pointed {
  repos: string[];
  why: string;
  via: string;
  /** A label named a repository agents may not use: ask even when one other candidate is left. */
  refused?: boolean;
}

// Allowed repositories the labels name; a label naming one agents may not use makes it a question
// over every allowed repository, since the label says the person meant another one.
function byLabels(labels: string[], allowed: Map<string, string>): Pointed | null {
  const named = labels.map((l) => REPO_LABEL.exec(l.trim())).filter((m): m is RegExpExecArray => m !== null);
  if (named.length === 0) return null;
  const known = distinct(named.map((m) => allowed.get(`${m[1]}/${m[2]}`.toLowerCase())).filter((r): r is string => r !== undefined));
  const unknown = named.map((m) => `${m[1]}/${m[2]}`).filter((r) => !allowed.has(r.toLowerCase()));
  if (unknown.length > 0) {
    const repos = known.length > 0 ? known : [...allowed.values()];
    return { repos, why: `the label \`repo:${unknown[0]}\` names a repository agents may not work in`, via: "label", refused: true };
  }
  const via = named.length === 1 ? `label "${named[0]?.[0]}"` : "labels";
  return { repos: known, why: `its labels name several repositories`, via };
}

// One repository routes there; several (or a refused label) ask, unless the remembered choice is
// among them.
function resolve(p: Pointed, routing: Routing, choice?: string): SessionRoute {
  if (choice && p.repos.some((r) => r.toLowerCase() === choice.toLowerCase())) return settle(choice, routing, "the repository chosen in the agent session");
  if (p.repos.length === 1 && !p.refused) return settle(p.repos[0] as string, routing, p.via);
  if (p.repos.length === 0) return { ok: false, reason: `No repository can be offered: ${p.why}, and none is allowed yet. Set DEFAULT_REPO or configure AGENT_WORKFORCE_CONFIG.` };
  return { ok: false, ask: { candidates: sorted(p.repos), why: p.why } };
}

function distinct(names: string[]): string[] {
  const seen = new Map<string, string>();
  for (const n of names) if (!seen.has(n.toLowerCase())) seen.set(n.toLowerCase(), n);
  return [...seen.values()];
}

const sorted = (names: string[]) => [...names].sort((a, b) => a.localeCompare(b));
