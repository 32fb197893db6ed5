import { randomUUID } from "node:crypto";
import { mkdir, readdir, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join, sep } from "node:path";
import type { Logger } from "pino";
import type { Git } from "./git.js";

/*
 * A finished job's worktree is parked instead of deleted, and the next job on the repository
 * takes it: writing a large repository's files is most of a worktree's cost, and two jobs on one
 * repository differ in few of them. The agent had the parked files to itself, so nothing in them
 * is trusted. The index is not the agent's: the sandbox mounts the admin directory read-only, and
 * only the worker's own git wrote it, so it parks with the tree and says, by stat data the agent
 * cannot forge (a change moves a file's ctime, which no unprivileged process can set back), which
 * files still hold what the worker last saw. From it, what the index does not have (ignored files,
 * nested repositories) is deleted, what differs from the new commit is rewritten, and the result
 * must read as a clean checkout or the tree is thrown away and written afresh. Without a parked
 * index, one is built from the commit and every file is hashed against it.
 */

/** Parked trees kept per repository unless configured (WORKSPACE_PARKED_TREES); more are deleted. */
export const DEFAULT_PARKED = 4;
/**
 * How long a tree stays parked before a job may take it. The job's shell and checks are killed
 * and awaited before it parks; their sandbox's PID namespace dies with them, which the kernel
 * finishes within milliseconds. This margin keeps a dying process from writing into the next job.
 */
export const PARK_SETTLE_MS = 2_000;

/** Where a repository's parked trees wait, beside its mirror. */
export function parkDirFor(mirrorPath: string): string {
  return `${mirrorPath}.parked`;
}

/**
 * Moves a finished worktree's directory into the park; false when the park is full (the caller
 * deletes it instead). Its admin directory is removed: the next job's `worktree add` makes its own.
 */
export async function parkTree(p: { mirrorPath: string; path: string; adminDir: string; max: number }): Promise<boolean> {
  const dir = parkDirFor(p.mirrorPath);
  if (p.max <= 0) {
    // Parking was turned off: what was parked before goes too.
    await rm(dir, { recursive: true, force: true });
    return false;
  }
  await mkdir(dir, { recursive: true });
  const names = await sweep(dir, Date.now());
  if (names.filter(isParkedTree).length >= p.max) return false;
  // The time first: takers pick the oldest that has settled.
  const parked = join(dir, `${Date.now()}-${randomUUID().slice(0, 8)}`);
  await rename(p.path, parked);
  await rename(join(p.adminDir, "index"), `${parked}.index`).catch(() => undefined);
  // Out of worktrees/ in one rename, so a fetch listing the worktrees never sees half of it.
  const gone = join(dir, `.admin-${randomUUID().slice(0, 8)}`);
  await rename(p.adminDir, gone);
  await rm(gone, { recursive: true, force: true });
  return true;
}

/** Parked trees older than this are deleted rather than reused: the branch has moved on. */
export const PARKED_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** Claim, trash and admin leftovers of a crashed worker, and orphaned indexes, go after this. */
const LEFTOVER_AGE_MS = 60 * 60 * 1000;

/** Deletes expired parked trees and old leftovers in the park; returns the names that remain. */
async function sweep(dir: string, now: number): Promise<string[]> {
  const names = await readdir(dir);
  const kept: string[] = [];
  for (const name of names) {
    const tree = isParkedTree(name);
    const orphanIndex = name.endsWith(".index") && !names.includes(name.slice(0, -".index".length));
    const leftover = name.startsWith(".") || orphanIndex;
    const at = tree ? Number(name.split("-")[0]) : ((await stat(join(dir, name)).catch(() => null))?.mtimeMs ?? now);
    const expired = tree ? now - at > PARKED_MAX_AGE_MS : leftover && now - at > LEFTOVER_AGE_MS;
    if (!expired) {
      kept.push(name);
      continue;
    }
    await rm(join(dir, name), { recursive: true, force: true });
    if (tree) await rm(join(dir, `${name}.index`), { force: true });
  }
  return kept;
}

/** A parked tree's name (`<ms>-<id>`), not its index (`.index`) nor a claim or trash directory. */
const isParkedTree = (name: string) => /^\d+-[0-9a-f]{8}$/.test(name);

/**
 * Takes the oldest settled parked tree (an atomic rename, so two workers never share one) and
 * its index when it has one (moved to `${into}.index`); false when none has settled.
 */
async function claimParked(mirrorPath: string, into: string, settledBefore: number): Promise<boolean> {
  const dir = parkDirFor(mirrorPath);
  const names = await readdir(dir).catch(() => [] as string[]);
  const settled = names
    .filter(isParkedTree)
    .map((name) => ({ name, at: Number(name.split("-")[0]) }))
    .filter((e) => Number.isFinite(e.at) && e.at <= settledBefore && e.at > Date.now() - PARKED_MAX_AGE_MS)
    .sort((a, b) => a.at - b.at);
  for (const { name } of settled) {
    try {
      // The sweep judges a claim (and an index apart from its tree) by its mtime, which was the
      // agent's last change: made now before the renames, so no sweep sees an old claim. A parked
      // tree itself is judged by its name.
      const now = new Date();
      await utimes(join(dir, name), now, now).catch(() => undefined);
      await utimes(join(dir, `${name}.index`), now, now).catch(() => undefined);
      await rename(join(dir, name), into);
      await rename(join(dir, `${name}.index`), `${into}.index`).catch(() => undefined);
      return true;
    } catch {
      // Another job took it first.
    }
  }
  return false;
}

/** A parked tree a job has claimed and looked over (claimTree), not yet in its place. */
export interface ClaimedTree {
  dir: string;
  /** why it must not be reused (trapIn found a nested `.git` or a `.gitattributes`), or null */
  trap: string | null;
}

/**
 * Claims the oldest settled parked tree and looks it over for traps; null when none has settled.
 * Needs no lock and no worktree, so a job calls it while it waits for its repository's fetch.
 */
export async function claimTree(mirrorPath: string, settleMs = PARK_SETTLE_MS): Promise<ClaimedTree | null> {
  // Beside the parked trees (same filesystem, and not where listWorktrees looks).
  const dir = join(parkDirFor(mirrorPath), `.claim-${randomUUID().slice(0, 8)}`);
  if (!(await claimParked(mirrorPath, dir, Date.now() - settleMs))) return null;
  const trap = await trapIn(dir).catch((err: unknown) => `unreadable (${(err as Error).message})`);
  return { dir, trap };
}

/** Deletes a claimed tree that will not be used, and its index. */
export async function dropClaim(claimed: ClaimedTree): Promise<void> {
  await rm(claimed.dir, { recursive: true, force: true });
  await rm(`${claimed.dir}.index`, { force: true });
}

interface FillParams {
  /** runs git in the new worktree (its admin dir, the mirror, the path), mirror config restored first */
  git: Git;
  mirrorPath: string;
  path: string;
  adminDir: string;
  /** the commit the worktree was registered at (its HEAD; no agent has run there yet) */
  commit: string;
  signal?: AbortSignal;
  logger?: Logger;
}

/**
 * Fills the freshly registered (empty, `--no-checkout`) worktree at p.path from a claimed parked
 * tree; false when it was unusable (the caller writes every file). The path keeps a `.git`
 * throughout, so another job's `worktree prune` never drops this registration.
 */
export async function reuseParked(p: FillParams, claimed: ClaimedTree): Promise<boolean> {
  try {
    if (claimed.trap) {
      p.logger?.info({ worktree: p.path, path: claimed.trap }, "a parked worktree holds a nested .git or a .gitattributes; writing it afresh");
      // Nothing of it reached p.path, which still holds only its `.git`.
      await dropClaim(claimed);
      return false;
    }
    // Whatever the agent left as `.git` (a file, a directory, a symlink) gives way to ours.
    await rm(join(claimed.dir, ".git"), { recursive: true, force: true });
    await writeFile(join(claimed.dir, ".git"), `gitdir: ${p.adminDir}\n`, { flag: "wx" });
    await rm(p.path, { recursive: true, force: true });
    await rename(claimed.dir, p.path);
    const withIndex = await rename(`${claimed.dir}.index`, join(p.adminDir, "index")).then(() => true, () => false);
    const why = await sanitize(p, withIndex);
    if (why === null) return true;
    p.logger?.warn({ worktree: p.path, why }, "a parked worktree did not come back clean; writing it afresh");
  } catch (err) {
    p.logger?.warn({ err, worktree: p.path }, "could not reuse a parked worktree; writing it afresh");
  }
  await discard(p, claimed);
  return false;
}

/**
 * The first path below the tree's root named `.git` or `.gitattributes`, or null. git never looks
 * inside a `.git` (clean leaves it, status does not show it), so one planted in a subdirectory
 * would reach the next job as a repository of the agent's making. And attributes (eol, ident,
 * encodings) make different bytes hash the same, so neither the parked index nor a refresh can
 * tell such a file from the commit's. Symbolic links are not followed.
 */
async function trapIn(tree: string): Promise<string | null> {
  for (const entry of await readdir(tree, { recursive: true })) {
    const parts = entry.split(sep);
    const name = parts[parts.length - 1];
    if (name === ".gitattributes" || (name === ".git" && parts.length > 1)) return entry;
  }
  return null;
}

/**
 * Makes the tree equal to HEAD; null when `git status` then finds nothing (ignored files
 * included), else why not. withIndex: the worker's parked index is in place (see the top).
 */
async function sanitize(p: FillParams, withIndex: boolean): Promise<string | null> {
  const call = { cwd: p.path, signal: p.signal };
  if (!withIndex) {
    // An index from the commit alone, with no stat data: nothing the agent wrote counts as checked.
    await p.git.run(["read-tree", "--reset", "HEAD"], call);
    const unfit = await unfitCommit(p);
    if (unfit) return unfit;
  }
  // Before any file is written: an untracked `.gitattributes` must not shape the checkout.
  await p.git.run(["clean", "-ffdxq"], call);
  // Hashes every file; only those matching the commit are marked up to date (exit 1 lists the rest).
  if (!withIndex) await p.git.probe(["update-index", "-q", "--refresh"], call);
  // Rewrites what is not up to date (by the index's stat data), symlinked leading directories
  // included, and deletes what the index has but the commit does not.
  await p.git.run(["read-tree", "--reset", "-u", "HEAD"], call);
  const unfit = withIndex ? await unfitCommit(p) : null;
  if (unfit) return unfit;
  const status = await p.git.run(["status", "--porcelain", "--ignored", "--untracked-files=all"], call);
  return status.trim() === "" ? null : `git status: ${status.trim().slice(0, 500)}`;
}

// Commit → why it cannot take a reused tree (null: it can).
const unfitness = new Map<string, string | null>();
const UNFITNESS_KEPT = 1_000;

/**
 * Why the commit now in the index cannot take a reused tree, or null: git would run `status`
 * inside a submodule's checkout, and what the agent left in a gitlink's directory is not ours to
 * judge; attributes, see trapIn. Such repositories get a fresh tree.
 */
async function unfitCommit(p: FillParams): Promise<string | null> {
  // A commit never changes: one listing per commit serves every job that starts from it.
  const known = unfitness.get(p.commit);
  if (known !== undefined) return known;
  const why = await listUnfit(p);
  if (unfitness.size >= UNFITNESS_KEPT) unfitness.clear();
  unfitness.set(p.commit, why);
  return why;
}

/** unfitCommit's listing of the index, which then holds the commit's tree. */
async function listUnfit(p: FillParams): Promise<string | null> {
  const stage = await p.git.run(["ls-files", "--stage", "-z"], { cwd: p.path, signal: p.signal });
  for (const entry of stage.split("\0")) {
    if (entry.startsWith("160000 ")) return "the commit has submodules";
    if (entry.endsWith("\t.gitattributes") || entry.endsWith("/.gitattributes")) return "the commit has .gitattributes";
  }
  return null;
}

/** Puts an empty registered worktree back at p.path after a failed reuse. */
async function discard(p: FillParams, claimed: ClaimedTree): Promise<void> {
  const trash = join(parkDirFor(p.mirrorPath), `.trash-${randomUUID().slice(0, 8)}`);
  await rename(p.path, trash).catch(() => undefined);
  await dropClaim(claimed).catch(() => undefined);
  await rm(join(p.adminDir, "index"), { force: true }).catch(() => undefined);
  await mkdir(p.path, { recursive: true });
  await writeFile(join(p.path, ".git"), `gitdir: ${p.adminDir}\n`);
  await rm(trash, { recursive: true, force: true }).catch((err: unknown) => {
    p.logger?.warn({ err, dir: trash }, "could not delete a discarded worktree; delete it by hand");
  });
}
