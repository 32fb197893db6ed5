import { createAppAuth } from "@octokit/auth-app";
import { RequestError } from "@octokit/request-error";
import type { GitHubAppConfig } from "../config-types.js";
import type { Logger } from "../logger.js";
import { type AppAuth, type Options, sendWithAuth } from "./app-auth-hook.js";
import type { GitHub } from "./octokit.js";

/** A token is renewed this long before it expires (or at the last quarter of a shorter life). */
const RENEW_BEFORE_MS = 5 * 60_000;

/** One Octokit and one token source per installation of the App. */
export interface InstallationClients {
  /** The installation's Octokit (made once): each request carries a current installation token. */
  client(installationId: number): GitHub;
  /** A token of the installation, renewed when it expires soon or when `renew` (it was refused). */
  token(installationId: number, renew?: boolean): Promise<string>;
  /** Drops the installation's Octokit and tokens (it was uninstalled). */
  forget(installationId: number): void;
}

/** What {@link installationClients} needs. */
export interface InstallationClientOptions {
  app: GitHubAppConfig;
  /** A new Octokit with the service's plugins and no credentials, spending `identity`'s budget. */
  octokit: (identity: string) => GitHub;
  /** The App's own Octokit: new tokens are asked through it, spending the App's budget. */
  asApp: GitHub;
  log: Logger;
  now: () => number;
  /**
   * Called with what an installation's request finally failed with; it throws that error or a
   * better one (the installation is gone, the repository moved).
   */
  refused: (installationId: number, err: unknown, options: Options) => Promise<never>;
}

/**
 * auth-app's request hook sends each installation's token (backing off while a new one
 * replicates); this renews a token before its `expires_at` (auth-app keeps one 59 minutes
 * whatever its life) and renews once a token GitHub refused before its time.
 */
export function installationClients(o: InstallationClientOptions): InstallationClients {
  const made = new Map<number, { gh: GitHub; auth: AppAuth }>();

  function authOf(installationId: number): AppAuth {
    const known = made.get(installationId);
    if (known) return known.auth;
    return make(installationId).auth;
  }

  async function token(installationId: number, renew = false): Promise<string> {
    const auth = authOf(installationId);
    const cached = await auth({ type: "installation", ...(renew ? { refresh: true } : {}) });
    if (renew || !expiresSoon(cached, o.now())) return cached.token;
    o.log.debug({ installationId, expiresAt: cached.expiresAt }, "installation token expires soon; asking for a new one");
    return (await auth({ type: "installation", refresh: true })).token;
  }

  function make(installationId: number): { gh: GitHub; auth: AppAuth } {
    const auth = createAppAuth({
      appId: o.app.appId,
      privateKey: o.app.privateKey,
      installationId,
      request: o.asApp.request,
      log: { warn: (message: string) => o.log.warn({ installationId }, message) },
    });
    const gh = o.octokit(`installation:${installationId}`);
    gh.hook.wrap("request", async (send, options) => {
      const attempt = () => sendWithAuth(gh, auth, o.asApp.request, send, options);
      try {
        await token(installationId);
        try {
          return await attempt();
        } catch (err) {
          if (!(err instanceof RequestError) || err.status !== 401) throw err;
          o.log.info({ installationId }, "GitHub refused the installation token (401); renewing it once");
          await token(installationId, true);
          return await attempt();
        }
      } catch (err) {
        return o.refused(installationId, err, options);
      }
    });
    const entry = { gh, auth };
    made.set(installationId, entry);
    return entry;
  }

  return {
    client: (installationId) => (made.get(installationId) ?? make(installationId)).gh,
    token,
    forget: (installationId) => void made.delete(installationId),
  };
}

/** Whether a token should be renewed now: within 5 minutes of its expiry, or its last quarter if it lives shorter. */
function expiresSoon(t: { createdAt: string; expiresAt: string }, nowMs: number): boolean {
  const expires = Date.parse(t.expiresAt);
  const life = expires - Date.parse(t.createdAt);
  return expires - nowMs < Math.min(RENEW_BEFORE_MS, life / 4);
}

/** Whether GitHub answered 404 to minting an installation token: the installation no longer exists. */
export function isMintRefusal(err: unknown): err is RequestError {
  return err instanceof RequestError && err.status === 404 && /\/app\/installations\/\d+\/access_tokens$/.test(new URL(err.request.url).pathname);
}
