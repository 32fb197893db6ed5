import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/rest";
import type { Config } from "../config.js";
import { createOctokit, type GitHub } from "../github/octokit.js";
import { createLogger } from "../logger.js";

/** One doctor line. */
export interface AppCheck {
  ok: boolean;
  name: string;
  detail: string;
}

type Level = "read" | "write" | "admin";

/** What the service does with each permission; Commit statuses is optional (the token path's gate). */
export const REQUIRED_APP_PERMISSIONS: ReadonlyArray<{ name: string; label: string; level: Level; why: string }> = [
  { name: "contents", label: "Contents", level: "write", why: "clone and push the agent's branches" },
  { name: "pull_requests", label: "Pull requests", level: "write", why: "open, update and comment on pull requests" },
  { name: "checks", label: "Checks", level: "write", why: "publish the agent-workforce check run" },
  { name: "issues", label: "Issues", level: "write", why: "comment on pull request conversations" },
  { name: "metadata", label: "Metadata", level: "read", why: "find repositories and their installation" },
];

/** The webhook events the service acts on (webhooks/github-intents.ts); installation events arrive unasked. */
export const REQUIRED_APP_EVENTS = ["issue_comment", "pull_request", "pull_request_review", "pull_request_review_comment"] as const;

const RANK: Record<string, number> = { read: 1, write: 2, admin: 3 };
/** Repositories named per installation before the rest are counted. */
const LISTED = 10;
const TIMEOUT_MS = 15_000;

/**
 * What doctor says about the GitHub App: it signs a JWT with the private key, reads the App
 * (GET /app), checks its permissions and events, lists each installation with the repositories
 * it reaches (an installation token each), and names routed repositories no installation reaches.
 */
export async function githubAppChecks(config: Config, routedRepos: readonly string[] = []): Promise<AppCheck[]> {
  const app = config.github.app;
  if (!app) return [];
  const checks: AppCheck[] = [];
  const add = (ok: boolean, name: string, detail: string) => checks.push({ ok, name, detail });
  const baseUrl = config.github.apiUrl.replace(/\/+$/, "");
  const logger = createLogger({ level: "silent" });
  // auth-app mints JWTs and installation tokens through this request, so they reach GITHUB_API_URL.
  const auth = createAppAuth({ appId: app.appId, privateKey: app.privateKey, request: new Octokit({ baseUrl, userAgent: "agent-workforce" }).request });
  let asApp: GitHub;
  let about: Awaited<ReturnType<GitHub["rest"]["apps"]["getAuthenticated"]>>["data"];
  try {
    const { token: jwt } = await auth({ type: "app" });
    asApp = createOctokit({ token: jwt, baseUrl, logger, maxRetries: 0 });
    about = (await asApp.rest.apps.getAuthenticated({ request: { signal: AbortSignal.timeout(TIMEOUT_MS) } })).data;
  } catch (err) {
    add(false, "github app", `GET ${baseUrl}/app as App ${app.appId}: ${(err as Error).message} — check that GITHUB_APP_ID is the App's "App ID" and GITHUB_APP_PRIVATE_KEY(_FILE) a private key generated for that App (not revoked)`);
    return checks;
  }
  if (!about) {
    add(false, "github app", `GET ${baseUrl}/app answered without an App`);
    return checks;
  }
  const slug = about.slug ?? String(about.id);
  add(true, "github app", `${about.name} (${slug}, id ${about.id}): acts as ${slug}[bot]`);
  checks.push(...permissionChecks(about.permissions ?? {}, slug), ...eventChecks(about.events ?? [], slug));

  const reached = await installationChecks(asApp, auth, about.permissions ?? {}, slug, add, baseUrl, logger);
  if (reached) {
    for (const full of routedRepos) {
      const [owner = "", name = ""] = full.toLowerCase().split("/");
      const inst = reached.get(owner);
      if (!inst) add(false, "github app repos", `routing names ${full} but the App is not installed on ${owner}: install it at https://github.com/apps/${slug}/installations/new`);
      else if (inst !== "all" && !inst.has(name)) add(false, "github app repos", `routing names ${full} but ${owner}'s installation does not include it: add it under the installation's Repository access`);
    }
  }
  return checks;
}

/** The required permissions `granted` lacks or holds below the level the service needs. */
export function missingPermissions(granted: Record<string, string | undefined>): typeof REQUIRED_APP_PERMISSIONS {
  return REQUIRED_APP_PERMISSIONS.filter((p) => (RANK[granted[p.name] ?? ""] ?? 0) < (RANK[p.level] ?? 0));
}

/** One line per required permission the App lacks, naming where to change it; one ✓ line when none. */
export function permissionChecks(granted: Record<string, string | undefined>, slug: string): AppCheck[] {
  const missing = missingPermissions(granted);
  if (missing.length === 0) {
    const optional = granted.statuses ? `; Commit statuses ${granted.statuses}` : "";
    return [{ ok: true, name: "github app permissions", detail: `${REQUIRED_APP_PERMISSIONS.map((p) => `${p.label} ${granted[p.name]}`).join(", ")}${optional}` }];
  }
  return missing.map((p) => ({
    ok: false,
    name: "github app permissions",
    detail: `${p.label} is ${granted[p.name] ?? "no access"}, needs ${p.level === "write" ? "Read and write" : "Read-only"} (to ${p.why}): GitHub → Settings → Developer settings → GitHub Apps → ${slug} → Permissions & events → Repository permissions → ${p.label}; each installation then accepts the change`,
  }));
}

function eventChecks(events: readonly string[], slug: string): AppCheck[] {
  const missing = REQUIRED_APP_EVENTS.filter((e) => !events.includes(e));
  if (missing.length === 0) return [{ ok: true, name: "github app events", detail: events.join(", ") }];
  return [{ ok: false, name: "github app events", detail: `not subscribed to ${missing.join(", ")}: tick them under GitHub Apps → ${slug} → Permissions & events → Subscribe to events (reviews and comments never reach the service otherwise)` }];
}

type Reach = Map<string, Set<string> | "all">;

/** Lists installations and their repositories; returns what each owner's installation reaches (null when unknown). */
async function installationChecks(
  asApp: GitHub,
  auth: ReturnType<typeof createAppAuth>,
  appPermissions: Record<string, string | undefined>,
  slug: string,
  add: (ok: boolean, name: string, detail: string) => void,
  baseUrl: string,
  logger: ReturnType<typeof createLogger>,
): Promise<Reach | null> {
  let installations;
  try {
    installations = await asApp.paginate(asApp.rest.apps.listInstallations, { per_page: 100, request: { signal: AbortSignal.timeout(TIMEOUT_MS) } });
  } catch (err) {
    add(false, "github installations", `GET ${baseUrl}/app/installations: ${(err as Error).message}`);
    return null;
  }
  if (installations.length === 0) {
    add(false, "github installations", `the App is installed nowhere: install it on your organisation at https://github.com/apps/${slug}/installations/new and pick the repositories`);
    return new Map();
  }
  const reach: Reach = new Map();
  for (const inst of installations) {
    // An enterprise account has a slug instead of a login.
    const holder = inst.account as { login?: string; slug?: string } | null;
    const account = holder?.login ?? holder?.slug ?? `installation ${inst.id}`;
    const name = "github installation";
    if (inst.suspended_at) {
      add(false, name, `${account} (installation ${inst.id}) is suspended: an owner of ${account} unsuspends it at ${inst.html_url}`);
      continue;
    }
    // The App may have asked for more than this installation has accepted yet.
    const appHas = new Set(REQUIRED_APP_PERMISSIONS.map((p) => p.name));
    for (const p of missingPermissions(appPermissions)) appHas.delete(p.name);
    const pending = missingPermissions(inst.permissions as Record<string, string | undefined>).filter((p) => appHas.has(p.name));
    if (pending.length > 0) {
      add(false, name, `${account} has not accepted ${pending.map((p) => `${p.label} ${p.level}`).join(", ")}: an owner of ${account} reviews and accepts the App's new permissions at ${inst.html_url}`);
    }
    try {
      const { token } = await auth({ type: "installation", installationId: inst.id });
      const asInstallation = createOctokit({ token, baseUrl, logger, maxRetries: 0 });
      const repos = await asInstallation.paginate(asInstallation.rest.apps.listReposAccessibleToInstallation, { per_page: 100, request: { signal: AbortSignal.timeout(TIMEOUT_MS) } });
      const names = repos.map((r) => r.full_name);
      const shown = names.slice(0, LISTED).join(", ") + (names.length > LISTED ? ` and ${names.length - LISTED} more` : "");
      add(names.length > 0, name, `${account} (installation ${inst.id}), ${inst.repository_selection === "all" ? "all repositories" : "selected repositories"}: ${names.length ? shown : `none yet — add repositories at ${inst.html_url}`}`);
      const key = account.toLowerCase();
      reach.set(key, inst.repository_selection === "all" ? "all" : new Set(repos.map((r) => r.name.toLowerCase())));
    } catch (err) {
      add(false, name, `${account} (installation ${inst.id}): ${(err as Error).message} — the App cannot get a token for it`);
    }
  }
  return reach;
}
