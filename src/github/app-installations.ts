import { RequestError } from "@octokit/request-error";
import { AppNotInstalledError, type RepoRef } from "./access.js";
import type { GitHub } from "./octokit.js";

const MAX_REMEMBERED_REPOS = 10_000;

/** Which installation of the App serves each repository, found with the App's JWT and remembered in memory (never in Redis). */
export interface InstallationLookup {
  /** The installation serving `ref`: remembered for `ttlMs`, else asked; AppNotInstalledError when there is none. */
  find(ref: RepoRef, signal?: AbortSignal): Promise<number>;
  /** Remembers that `installationId` serves `ref` (a webhook named it). */
  remember(ref: RepoRef, installationId: number): void;
  /** The remembered installation of `ref` and how long ago it was found, if any (stale entries too). */
  known(ref: RepoRef): { id: number; ageMs: number } | undefined;
  /** Forgets `ref`'s installation, so the next find asks GitHub. */
  forget(ref: RepoRef): void;
  /** Forgets every repository `installationId` served (it was uninstalled). */
  forgetInstallation(installationId: number): void;
}

/** The installation lookup of the App behind `asApp` (an Octokit sending the App's JWT). */
export function installationLookup(o: {
  asApp: GitHub;
  /** The App's slug for AppNotInstalledError's message. */
  appName: (signal?: AbortSignal) => Promise<string>;
  ttlMs: number;
  now: () => number;
  onFound: (repo: string, installationId: number) => void;
}): InstallationLookup {
  const installations = new Map<string, { id: number; at: number }>();
  const keyOf = (ref: RepoRef) => `${ref.owner}/${ref.repo}`.toLowerCase();

  function remember(ref: RepoRef, id: number): void {
    const key = keyOf(ref);
    if (installations.get(key)?.id !== id) o.onFound(key, id);
    installations.delete(key);
    installations.set(key, { id, at: o.now() });
    // Oldest first: the map keeps insertion order and every use re-inserts.
    for (const oldest of installations.keys()) {
      if (installations.size <= MAX_REMEMBERED_REPOS) break;
      installations.delete(oldest);
    }
  }

  async function ask(ref: RepoRef, signal?: AbortSignal): Promise<number> {
    try {
      const { data } = await o.asApp.rest.apps.getRepoInstallation({ owner: ref.owner, repo: ref.repo, request: { signal } });
      return data.id;
    } catch (err) {
      if (!(err instanceof RequestError) || err.status !== 404) throw err;
      throw new AppNotInstalledError(ref, await o.appName(signal), { cause: err });
    }
  }

  return {
    async find(ref, signal) {
      const known = installations.get(keyOf(ref));
      if (known && o.now() - known.at < o.ttlMs) return known.id;
      const id = await ask(ref, signal);
      remember(ref, id);
      return id;
    },
    remember,
    known(ref) {
      const known = installations.get(keyOf(ref));
      return known && { id: known.id, ageMs: o.now() - known.at };
    },
    forget(ref) {
      installations.delete(keyOf(ref));
    },
    forgetInstallation(installationId) {
      for (const [key, known] of installations) if (known.id === installationId) installations.delete(key);
    },
  };
}
