import { randomUUID } from "node:crypto";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Logger } from "pino";
import type { Git } from "./git.js";
import { mirrorGit, restoreMirror } from "./guard.js";
import type { RepoRef } from "./types.js";

/** Where the shared bare clone of a repository lives. */
export function mirrorPathFor(dataDir: string, repo: RepoRef): string {
  return join(dataDir, "mirrors", repo.owner, `${repo.name}.git`);
}

/** Lock file guarding a mirror; kept outside it because clone needs an empty target. */
export function mirrorLockPath(mirrorPath: string): string {
  return `${mirrorPath}.lock`;
}

interface SyncParams {
  git: Git;
  mirrorPath: string;
  cloneUrl: string;
  token?: string;
  signal?: AbortSignal;
  logger?: Logger;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}

// Mirrors this process has fetched since it last saw one fail: they are fetched straight away,
// and looked at (`rev-parse`) only if that fails.
const fetchedMirrors = new Set<string>();

async function isBareRepo(p: SyncParams): Promise<boolean> {
  if (!(await exists(join(p.mirrorPath, "HEAD")))) return false;
  // Config restored first: an agent's `core.bare=false` must not get the shared mirror re-cloned.
  const git = mirrorGit(p.git, p.mirrorPath, p.cloneUrl);
  const out = await git.probe(["rev-parse", "--is-bare-repository"], { cwd: p.mirrorPath });
  return out.exitCode === 0 && out.stdout.trim() === "true";
}

async function fetchOrigin(p: SyncParams): Promise<void> {
  const args = ["fetch", "--prune", "--quiet", "origin"];
  const call = { cwd: p.mirrorPath, token: p.token, tokenUrl: p.cloneUrl, signal: p.signal };
  // Restores the mirror's config first: the agent may have rewritten it since the last job.
  const git = mirrorGit(p.git, p.mirrorPath, p.cloneUrl);
  fetchedMirrors.delete(p.mirrorPath);
  const outcome = await git.probe(args, call);
  if (outcome.exitCode !== 0) {
    throw git.failure(
      args,
      call,
      outcome,
      `Fetching ${p.cloneUrl} failed: check that the repository exists and the GitHub token can read it.`,
    );
  }
  fetchedMirrors.add(p.mirrorPath);
}

/** Removes half-finished clones a crashed process left next to the mirror. */
async function removeCloneLeftovers(mirrorPath: string): Promise<void> {
  const prefix = `${basename(mirrorPath)}.tmp-`;
  const entries = await readdir(dirname(mirrorPath)).catch(() => [] as string[]);
  for (const entry of entries) {
    if (entry.startsWith(prefix))
      await rm(join(dirname(mirrorPath), entry), { recursive: true, force: true });
  }
}

async function cloneMirror(p: SyncParams): Promise<void> {
  await mkdir(dirname(p.mirrorPath), { recursive: true });
  await removeCloneLeftovers(p.mirrorPath);
  // Clone beside the final path and rename, so a crash never leaves a half-cloned mirror in place.
  const tmp = `${p.mirrorPath}.tmp-${randomUUID().slice(0, 8)}`;
  const args = ["clone", "--bare", "--quiet", p.cloneUrl, tmp];
  const call = { cwd: dirname(p.mirrorPath), token: p.token, tokenUrl: p.cloneUrl, signal: p.signal };
  try {
    const outcome = await p.git.probe(args, call);
    if (outcome.exitCode !== 0) {
      throw p.git.failure(
        args,
        call,
        outcome,
        `Cloning ${p.cloneUrl} failed: check the URL and that the GitHub token has read access to the repository.`,
      );
    }
    await restoreMirror(tmp, p.cloneUrl);
    await rename(tmp, p.mirrorPath);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Clones the mirror on first use, otherwise refreshes it; call only while holding the repo lock. */
export async function syncMirror(p: SyncParams): Promise<{ cloned: boolean }> {
  if (fetchedMirrors.has(p.mirrorPath)) {
    const fetched = await fetchOrigin(p).then(
      () => true,
      async (err: unknown) => {
        // Broken since (not a bare repository any more): cloned afresh below, as on first use.
        // A failed look says nothing more than the fetch did: its error is the one to show.
        if (await isBareRepo(p).catch(() => true)) throw err;
        return false;
      },
    );
    if (fetched) return { cloned: false };
  }
  let cloned = false;
  if (!(await isBareRepo(p))) {
    if (await exists(p.mirrorPath)) {
      p.logger?.warn({ mirror: p.mirrorPath }, "replacing a directory that is not a valid bare mirror");
      await rm(p.mirrorPath, { recursive: true, force: true });
    }
    const started = Date.now();
    await cloneMirror(p);
    cloned = true;
    p.logger?.info({ mirror: p.mirrorPath, ms: Date.now() - started }, "cloned repository mirror");
  }
  // Also right after a clone: a bare clone fills refs/heads, not refs/remotes/origin.
  await fetchOrigin(p);
  p.logger?.debug({ mirror: p.mirrorPath }, "fetched repository mirror");
  return { cloned };
}
