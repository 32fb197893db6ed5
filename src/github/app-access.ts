import { createAppAuth } from "@octokit/auth-app";
import { RequestError } from "@octokit/request-error";
import type { GitHubAppConfig } from "../config-types.js";
import type { Logger } from "../logger.js";
import { AppNotInstalledError, type GitHubAccess, type GitHubIdentity, type RepoRef } from "./access.js";
import type { GitHub } from "./octokit.js";

/** What {@link appAccess} needs. */
export interface AppAccessOptions {
  app: GitHubAppConfig;
  /**
   * A new Octokit with the service's plugins (retry, throttling) and no credentials. `identity`
   * names whose rate limits its requests spend: `app:<id>` (JWT calls) or `installation:<id>`.
   */
  octokit: (identity: string) => GitHub;
  logger: Logger;
  /** How long the installation found for a repository is remembered (default 10 minutes). */
  installationTtlMs?: number;
  now?: () => number;
}

const INSTALLATION_TTL_MS = 10 * 60_000;
/** A token is renewed this long before it expires (or at the last quarter of a shorter life). */
const RENEW_BEFORE_MS = 5 * 60_000;
const MAX_REMEMBERED_REPOS = 10_000;

/**
 * GitHub as an App: `@octokit/auth-app` signs the JWTs and mints and caches the installation
 * tokens; this adds which installation serves a repository (remembered in memory, never in
 * Redis), a token renewed before its expiry or when GitHub refuses it, and the bot's identity.
 */
export function appAccess(o: AppAccessOptions): GitHubAccess {
  const now = o.now ?? Date.now;
  const log = o.logger.child({ component: "github-app" });
  const auth = createAppAuth({
    appId: o.app.appId,
    privateKey: o.app.privateKey,
    // Minting tokens goes through the service's retry and throttling too.
    request: o.octokit(`app:${o.app.appId}`).request,
    log: { warn: (message: string) => log.warn(message) },
  });
  const asApp = o.octokit(`app:${o.app.appId}`);
  asApp.hook.before("request", async (options) => {
    options.headers.authorization = `bearer ${(await auth({ type: "app" })).token}`;
  });
  const installations = new Map<string, { id: number; at: number }>();
  const clients = new Map<number, GitHub>();
  const ttl = o.installationTtlMs ?? INSTALLATION_TTL_MS;

  /** The installation's token from auth-app's cache, renewed when it expires soon or was refused. */
  async function tokenOf(installationId: number, renew = false): Promise<string> {
    const cached = await auth({ type: "installation", installationId, ...(renew ? { refresh: true } : {}) });
    if (renew || !expiresSoon(cached, now())) return cached.token;
    log.debug({ installationId, expiresAt: cached.expiresAt }, "installation token expires soon; asking for a new one");
    return (await auth({ type: "installation", installationId, refresh: true })).token;
  }

  function installationOctokit(installationId: number): GitHub {
    const known = clients.get(installationId);
    if (known) return known;
    const gh = o.octokit(`installation:${installationId}`);
    // Each request carries the installation's current token; a refused one (expired or revoked
    // before its time) is renewed once and the request sent again.
    gh.hook.wrap("request", async (request, options) => {
      options.headers.authorization = `token ${await tokenOf(installationId)}`;
      try {
        return await request(options);
      } catch (err) {
        if (!(err instanceof RequestError) || err.status !== 401) throw err;
        log.info({ installationId }, "GitHub refused the installation token (401); renewing it once");
        options.headers.authorization = `token ${await tokenOf(installationId, true)}`;
        return request(options);
      }
    });
    clients.set(installationId, gh);
    return gh;
  }

  let slug: Promise<string> | undefined;
  const appSlug = (signal?: AbortSignal): Promise<string> =>
    (slug ??= asApp.rest.apps
      .getAuthenticated({ request: { signal } })
      .then(({ data }) => {
        if (!data?.slug) throw new Error(`GET /app answered without the App's slug (GITHUB_APP_ID ${o.app.appId})`);
        return data.slug;
      })
      .catch((err: unknown) => {
        slug = undefined;
        throw err;
      }));

  async function findInstallation(ref: RepoRef, signal?: AbortSignal): Promise<number> {
    try {
      const { data } = await asApp.rest.apps.getRepoInstallation({ owner: ref.owner, repo: ref.repo, request: { signal } });
      return data.id;
    } catch (err) {
      if (!(err instanceof RequestError) || err.status !== 404) throw err;
      const name = await appSlug(signal).catch(() => `with id ${o.app.appId}`);
      throw new AppNotInstalledError(ref, name, { cause: err });
    }
  }

  async function installationFor(ref: RepoRef, opts: { installationId?: number; signal?: AbortSignal }): Promise<number> {
    const key = `${ref.owner}/${ref.repo}`.toLowerCase();
    const known = installations.get(key);
    if (opts.installationId === undefined && known && now() - known.at < ttl) return known.id;
    const id = opts.installationId ?? (await findInstallation(ref, opts.signal));
    if (known?.id !== id) log.debug({ repo: key, installationId: id }, "repository served by installation");
    remember(key, id);
    return id;
  }

  function remember(key: string, id: number): void {
    installations.delete(key);
    installations.set(key, { id, at: now() });
    // Oldest first: the map keeps insertion order and every use re-inserts.
    for (const oldest of installations.keys()) {
      if (installations.size <= MAX_REMEMBERED_REPOS) break;
      installations.delete(oldest);
    }
  }

  let me: Promise<GitHubIdentity> | undefined;
  /** The bot's login and commit identity; its user id is read with any installation's token (GET /user does not work with one). */
  async function findIdentity(signal?: AbortSignal): Promise<GitHubIdentity> {
    const name = await appSlug(signal);
    const login = `${name}[bot]`;
    const { data: list } = await asApp.rest.apps.listInstallations({ per_page: 1, request: { signal } });
    const first = list[0];
    if (!first) throw new Error(`the GitHub App ${name} has no installation yet: install it on the repositories it should work on`);
    const { data: user } = await installationOctokit(first.id).rest.users.getByUsername({ username: login, request: { signal } });
    return { login, name: login, email: `${user.id}+${login}@users.noreply.github.com` };
  }

  return {
    kind: "app",
    async forRepo(ref, opts = {}) {
      return installationOctokit(await installationFor(ref, opts));
    },
    async gitToken(ref, opts = {}) {
      return tokenOf(await installationFor(ref, opts.signal ? { signal: opts.signal } : {}), opts.renew === true);
    },
    identity(opts) {
      // Found once per process; a failed look is asked again next time.
      return (me ??= findIdentity(opts?.signal).catch((err: unknown) => {
        me = undefined;
        throw err;
      }));
    },
  };
}

/** Whether a token should be renewed now: within 5 minutes of its expiry, or its last quarter if it lives shorter. */
function expiresSoon(t: { createdAt: string; expiresAt: string }, nowMs: number): boolean {
  const expires = Date.parse(t.expiresAt);
  const life = expires - Date.parse(t.createdAt);
  return expires - nowMs < Math.min(RENEW_BEFORE_MS, life / 4);
}
