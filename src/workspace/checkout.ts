import { readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Logger } from "pino";
import type { Git } from "./git.js";

/** One entry of `git worktree list --porcelain`. */
export interface ListedWorktree {
  path: string;
  branch?: string;
}

/** Parses `git worktree list --porcelain` of the mirror (the bare mirror itself is skipped). */
export async function listRegistered(git: Git, mirrorPath: string): Promise<ListedWorktree[]> {
  const out = await git.run(["worktree", "list", "--porcelain"], { cwd: mirrorPath });
  const result: ListedWorktree[] = [];
  for (const block of out.split(/\n\n+/)) {
    const lines = block.split("\n");
    const path = lines.find((l) => l.startsWith("worktree "))?.slice("worktree ".length);
    if (!path || lines.includes("bare")) continue;
    const branch = lines.find((l) => l.startsWith("branch "))?.slice("branch refs/heads/".length);
    result.push(branch ? { path, branch } : { path });
  }
  return result;
}

/**
 * Where commits a job made but could not push are kept (a rejected push, a crash before it): a
 * ref outside refs/heads and refs/remotes, so neither `worktree add -B` nor `fetch --prune`
 * orphans them, and the next job on the branch starts from them.
 */
export function unpushedRef(branch: string): string {
  return `refs/agent-workforce/unpushed/${branch}`;
}

/** The commit a ref points at, or null when it does not exist. */
export async function resolveCommit(git: Git, cwd: string, ref: string): Promise<string | null> {
  const out = await git.probe(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { cwd });
  return out.exitCode === 0 ? out.stdout.trim() : null;
}

interface CheckoutParams {
  /** bound to the mirror (guard.ts mirrorGit) */
  git: Git;
  mirrorPath: string;
  path: string;
  branch: string;
  baseBranch: string;
  cloneUrl: string;
  /** worktree paths jobs in this process are using right now; never deleted from under them */
  livePaths: ReadonlySet<string>;
  /** the kept commit the task recorded; any other kept commit is stale and dropped */
  resumeFrom?: string | null;
  signal?: AbortSignal;
  logger?: Logger;
}

async function removeWorktree(git: Git, mirrorPath: string, path: string): Promise<void> {
  await git.probe(["worktree", "remove", "--force", "--force", path], { cwd: mirrorPath });
  await rm(path, { recursive: true, force: true });
}

/** Clears crash leftovers: our target path, and other dead worktrees holding the branch. */
async function clearLeftovers(p: CheckoutParams): Promise<void> {
  await p.git.run(["worktree", "prune"], { cwd: p.mirrorPath });
  for (const listed of await listRegistered(p.git, p.mirrorPath)) {
    if (listed.path !== p.path && listed.branch !== p.branch) continue;
    // The path comes from an admin file an agent can rewrite: never delete outside our directory.
    if (dirname(listed.path) !== dirname(p.path)) {
      throw new Error(
        `Branch ${p.branch} is registered as checked out at ${listed.path}, outside ${dirname(p.path)}: remove that worktree by hand`,
      );
    }
    if (listed.path !== p.path && p.livePaths.has(listed.path)) {
      throw new Error(
        `Branch ${p.branch} is already checked out by a running job at ${listed.path}: wait for that job to finish before starting another on the same branch`,
      );
    }
    // A worktree no job here owns is left from a crash; git refuses to check a branch out twice.
    p.logger?.warn({ worktree: listed.path, branch: listed.branch }, "removing leftover worktree");
    await removeWorktree(p.git, p.mirrorPath, listed.path);
  }
  await rm(p.path, { recursive: true, force: true });
}

/**
 * The commits the given refs point at (refs that are missing or not commits are left out), read
 * with one `for-each-ref` instead of one `rev-parse` per ref.
 */
async function resolveCommits(git: Git, cwd: string, refs: string[]): Promise<Map<string, string>> {
  const format = "%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)";
  const out = await git.run(["for-each-ref", `--format=${format}`, ...refs], { cwd });
  const wanted = new Set(refs);
  const found = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [name = "", type, sha = "", peeledType, peeled = ""] = line.split("\0");
    // A pattern also matches refs below it ("a" matches "a/b"): keep exact names only.
    if (!wanted.has(name)) continue;
    if (type === "commit") found.set(name, sha);
    else if (type === "tag" && peeledType === "commit") found.set(name, peeled);
  }
  return found;
}

/**
 * The kept commit to start from, or null. Only the one the task recorded counts (a commit kept by
 * a run the task has moved past, or by a job that was stopped, must not come back), and not once
 * the remote branch already holds it; such a ref is dropped.
 */
async function keptCommit(p: CheckoutParams, kept: string | null, remoteBranch: string | null): Promise<string | null> {
  if (!kept) return null;
  const onRemote =
    remoteBranch !== null && (await p.git.probe(["merge-base", "--is-ancestor", kept, remoteBranch], { cwd: p.mirrorPath })).exitCode === 0;
  if (kept === p.resumeFrom && !onRemote) return kept;
  p.logger?.info({ branch: p.branch, sha: kept, recorded: p.resumeFrom ?? null, onRemote }, "dropping a kept commit the task does not resume from");
  await p.git.run(["update-ref", "-d", unpushedRef(p.branch)], { cwd: p.mirrorPath });
  return null;
}

/** `git worktree add --no-checkout`; on failure clears crash leftovers (clearLeftovers) and tries once more. */
async function addWorktree(p: CheckoutParams, startSha: string): Promise<void> {
  // A sha (not the ref name) as the start point: no upstream tracking config is written into the
  // shared mirror config, and a concurrent fetch cannot change what we start from. No files yet:
  // populateWorktree or reuseParked put them in place.
  // Locked so that no other job's `worktree prune` drops it while its files are being put in place
  // (a reused tree moves in without its `.git` for a moment) or if the agent deletes its `.git`.
  const args = ["worktree", "add", "--quiet", "--lock", "--no-checkout", "-B", p.branch, p.path, startSha];
  const call = { cwd: p.mirrorPath, signal: p.signal };
  let outcome = await p.git.probe(args, call);
  if (outcome.exitCode !== 0) {
    // Leftovers (our path, a dead worktree holding the branch) are rare: look for them only now.
    await clearLeftovers(p);
    outcome = await p.git.probe(args, call);
  }
  if (outcome.exitCode !== 0) {
    await rm(p.path, { recursive: true, force: true });
    throw p.git.failure(args, call, outcome, `Could not create the worktree for ${p.branch} at ${p.path}.`);
  }
}

/**
 * Registers the worktree at p.path on p.branch, without its files (populateWorktree writes them),
 * starting from commits an earlier job kept but could not push, else from the remote branch when
 * it exists (a retry or a revision), else from origin/<baseBranch>. Call while holding the
 * repository lock, after the fetch (other jobs' checkouts may run beside it, a fetch never may).
 */
export async function checkoutWorktree(
  p: CheckoutParams,
): Promise<{ startSha: string; resumed: boolean; unpushed: boolean; adminDir: string }> {
  const remoteRef = `refs/remotes/origin/${p.branch}`;
  const keptRef = unpushedRef(p.branch);
  const baseRef = `refs/remotes/origin/${p.baseBranch}`;
  const refs = await resolveCommits(p.git, p.mirrorPath, [remoteRef, keptRef, baseRef]);
  const remoteBranch = refs.get(remoteRef) ?? null;
  const kept = await keptCommit(p, refs.get(keptRef) ?? null, remoteBranch);
  const startSha = kept ?? remoteBranch ?? refs.get(baseRef);
  if (!startSha) {
    throw new Error(
      `Base branch ${p.baseBranch} does not exist on ${p.cloneUrl}: check the repository's default branch or the configured base branch`,
    );
  }
  await addWorktree(p, startSha);
  // Read now, before the agent runs: from here on the worker names this admin directory itself.
  const adminDir = (await readFile(join(p.path, ".git"), "utf8")).replace(/^gitdir: /, "").trim();
  if (dirname(adminDir) !== join(p.mirrorPath, "worktrees")) {
    throw new Error(`git worktree add wrote an unexpected admin directory ${adminDir} for ${p.path}`);
  }
  if (kept) p.logger?.info({ branch: p.branch, sha: kept }, "starting from commits an earlier job could not push");
  return { startSha, resumed: remoteBranch !== null || kept !== null, unpushed: kept !== null, adminDir };
}

/**
 * Writes the files of a worktree checkoutWorktree registered. Needs no repository lock: it only
 * writes the worktree and its own index, and reads objects and the branch no other job moves.
 */
export async function populateWorktree(git: Git, path: string, signal?: AbortSignal): Promise<void> {
  await git.run(["read-tree", "--reset", "-u", "HEAD"], { cwd: path, signal });
}
