import { UnrecoverableError } from "bullmq";
import type { GitHub } from "./octokit.js";

/** A repository on GitHub, as the service routes to it. */
export interface RepoRef {
  owner: string;
  repo: string;
}

/** Who the service is on GitHub: the login its comments and reviews carry, and its commit author. */
export interface GitHubIdentity {
  /** `name[bot]` for an App; the token's user otherwise. */
  login: string;
  /** The commit author's name and email. */
  name: string;
  email: string;
}

/**
 * How the service acts on GitHub: as one token's user (`GITHUB_TOKEN`) or as a GitHub App
 * installed per organisation (`GITHUB_APP_ID` + private key), where every repository is reached
 * through its owner's installation and its short-lived tokens.
 */
export interface GitHubAccess {
  readonly kind: "token" | "app";
  /**
   * An Octokit acting on `ref`: the token's, or its installation's (found from `installationId`
   * when a webhook named it, else looked up and remembered). Rejects with
   * {@link AppNotInstalledError} for a repository the App is not installed on; the Octokit's
   * requests do too once the App was uninstalled from it or the repository left the installation.
   */
  forRepo(ref: RepoRef, opts?: { installationId?: number; signal?: AbortSignal }): Promise<GitHub>;
  /**
   * A token for git over HTTPS on `ref` (sent as a per-command header, never stored), fresh enough
   * to push with. `renew` asks for a new one: git refused the last (an App's token can die early).
   */
  gitToken(ref: RepoRef, opts?: { signal?: AbortSignal; renew?: boolean }): Promise<string>;
  /** The service's own login and commit identity. */
  identity(opts?: { signal?: AbortSignal }): Promise<GitHubIdentity>;
}

/**
 * The App is not installed on a repository (or cannot see it): a permanent failure for tasks on
 * it, so it is an UnrecoverableError (BullMQ does not retry it; the task fails with this message).
 */
export class AppNotInstalledError extends UnrecoverableError {
  constructor(
    readonly ref: RepoRef,
    readonly appSlug: string,
    options?: { cause?: unknown },
  ) {
    super(`the GitHub App ${appSlug} is not installed on ${ref.owner}/${ref.repo}: install it there (GitHub → Settings → Applications → ${appSlug} → Configure → Repository access) and add the label again`);
    if (options && "cause" in options) this.cause = options.cause;
    this.name = "AppNotInstalledError";
  }
}

/** Access through one token (`GITHUB_TOKEN`): the same Octokit and token for every repository. */
export function tokenAccess(p: { octokit: GitHub; token: string; author: { name: string; email: string } }): GitHubAccess {
  let login: Promise<string> | undefined;
  return {
    kind: "token",
    forRepo: async () => p.octokit,
    gitToken: async () => p.token,
    async identity(opts) {
      // Found once per process; a failed look is asked again next time.
      login ??= p.octokit.rest.users
        .getAuthenticated({ request: { signal: opts?.signal } })
        .then((r) => r.data.login)
        .catch((err: unknown) => {
          login = undefined;
          throw err;
        });
      return { login: await login, ...p.author };
    },
  };
}
