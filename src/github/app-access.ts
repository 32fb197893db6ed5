import { createAppAuth } from "@octokit/auth-app";
import { RequestError } from "@octokit/request-error";
import type { GitHubAppConfig } from "../config-types.js";
import type { Logger } from "../logger.js";
import type { GitHubAccess, RepoRef } from "./access.js";
import { type Options, useAuthHook } from "./app-auth-hook.js";
import { installationClients, isMintRefusal } from "./app-clients.js";
import { appSlugLookup, botIdentityLookup } from "./app-identity.js";
import { type InstallationLookup, installationLookup } from "./app-installations.js";
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
/** A 404 on a repository makes its installation be asked again at most this often. */
const RECHECK_AFTER_MS = 60_000;

/**
 * GitHub as an App: `@octokit/auth-app` signs the JWTs, mints and caches the installation tokens
 * and puts them on each request; this adds which installation serves a repository (remembered in
 * memory, never in Redis), a token renewed before its expiry or when GitHub refuses it, what an
 * uninstall turns into (AppNotInstalledError), and the bot's identity.
 */
export function appAccess(o: AppAccessOptions): GitHubAccess {
  const now = o.now ?? Date.now;
  const log = o.logger.child({ component: "github-app" });
  const asApp = o.octokit(`app:${o.app.appId}`);
  // The App's JWT on its own calls (and on token mints, which go through asApp too).
  const appAuth = createAppAuth({ appId: o.app.appId, privateKey: o.app.privateKey, request: asApp.request, log: { warn: (m: string) => log.warn(m) } });
  useAuthHook(asApp, appAuth, asApp.request);
  const slug = appSlugLookup(asApp, o.app.appId);
  const lookup = installationLookup({
    asApp,
    appName: (signal) => slug(signal).catch(() => `with id ${o.app.appId}`),
    ttlMs: o.installationTtlMs ?? INSTALLATION_TTL_MS,
    now,
    onFound: (repo, installationId) => log.debug({ repo, installationId }, "repository served by installation"),
  });

  const clients = installationClients({
    app: o.app,
    octokit: o.octokit,
    asApp,
    log,
    now,
    refused: (installationId, err, options) => afterRefusal(refusal, installationId, err, whereOf(options)),
  });
  const refusal = { log, lookup, forgetClient: (installationId: number) => clients.forget(installationId) };
  const identity = botIdentityLookup({ asApp, slug, installationClient: clients.client });

  async function installationFor(ref: RepoRef, opts: { installationId?: number; signal?: AbortSignal }): Promise<number> {
    if (opts.installationId === undefined) return lookup.find(ref, opts.signal);
    lookup.remember(ref, opts.installationId);
    return opts.installationId;
  }

  return {
    kind: "app",
    async forRepo(ref, opts = {}) {
      return clients.client(await installationFor(ref, opts));
    },
    async gitToken(ref, opts = {}) {
      const installationId = await installationFor(ref, opts.signal ? { signal: opts.signal } : {});
      return clients.token(installationId, opts.renew === true).catch((err: unknown) => afterRefusal(refusal, installationId, err, { ref, ...(opts.signal ? { signal: opts.signal } : {}) }));
    },
    identity: (opts) => identity(opts?.signal),
  };
}

/**
 * After GitHub refused an installation's request: a 404 minting its token means it was
 * uninstalled, a 404 on a repository it served may mean the repository left it. Either way the
 * repository's installation is asked again: none is AppNotInstalledError, another one a retry.
 * Throws that, or `err` itself.
 */
async function afterRefusal(
  o: { log: Logger; lookup: InstallationLookup; forgetClient: (installationId: number) => void },
  installationId: number,
  err: unknown,
  where: { ref?: RepoRef; signal?: AbortSignal },
): Promise<never> {
  const gone = isMintRefusal(err);
  if (gone) {
    o.log.info({ installationId }, "GitHub has no such installation any more (404 minting its token)");
    o.forgetClient(installationId);
    o.lookup.forgetInstallation(installationId);
  } else if (!(err instanceof RequestError) || err.status !== 404) throw err;
  const known = where.ref && o.lookup.known(where.ref);
  if (!where.ref || (!gone && (known?.id !== installationId || known.ageMs < RECHECK_AFTER_MS))) {
    if (gone) throw new Error(`the GitHub App's installation ${installationId} no longer exists (uninstalled?): the next attempt looks the repository's installation up again`, { cause: err });
    throw err;
  }
  o.lookup.forget(where.ref);
  const id = await o.lookup.find(where.ref, where.signal);
  if (id === installationId) throw err;
  throw new Error(`${where.ref.owner}/${where.ref.repo} moved from the GitHub App's installation ${installationId} to ${id}: the next attempt uses the new one`, { cause: err });
}

/** The repository a request names (`/repos/{owner}/{repo}/…` routes) and its signal. */
function whereOf(options: Options): { ref?: RepoRef; signal?: AbortSignal } {
  const { owner, repo } = options as { owner?: unknown; repo?: unknown };
  const signal = (options.request as { signal?: AbortSignal } | undefined)?.signal;
  return {
    ...(typeof owner === "string" && typeof repo === "string" ? { ref: { owner, repo } } : {}),
    ...(signal ? { signal } : {}),
  };
}
