/** Reads branch heads and commit facts from the local bare repository behind a fake repo's clone_url. */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";

const SHA_RE = /^[0-9a-f]{40}$/;

export function gitDirFromCloneUrl(cloneUrl: string): string | null {
  if (cloneUrl.startsWith("file://")) return fileURLToPath(cloneUrl);
  if (isAbsolute(cloneUrl)) return cloneUrl;
  return null;
}

function git(gitDir: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile("git", ["--git-dir", gitDir, ...args], { encoding: "utf8" }, (err, stdout) => {
      const code = err ? (typeof err.code === "number" ? err.code : 128) : 0;
      resolve({ code, stdout: String(stdout).trim() });
    });
  });
}

/** Deterministic stand-in SHA for repositories whose clone URL is not a local path. */
export function syntheticSha(seed: string): string {
  return createHash("sha1").update(seed).digest("hex");
}

async function verifyCommit(gitDir: string, rev: string): Promise<string | null> {
  const r = await git(gitDir, ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`]);
  return r.code === 0 && SHA_RE.test(r.stdout) ? r.stdout : null;
}

/** SHA of refs/heads/<branch>, or null if the branch does not exist. */
export async function branchSha(
  gitDir: string | null,
  repoKey: string,
  branch: string,
): Promise<string | null> {
  if (!gitDir) return syntheticSha(`${repoKey}:${branch}`);
  return verifyCommit(gitDir, `refs/heads/${branch}`);
}

/** Resolves a commit SHA, branch name or tag name to a commit SHA (null if unknown). */
export async function resolveRef(
  gitDir: string | null,
  repoKey: string,
  ref: string,
): Promise<string | null> {
  if (!gitDir) return SHA_RE.test(ref) ? ref : syntheticSha(`${repoKey}:${ref}`);
  if (SHA_RE.test(ref)) return verifyCommit(gitDir, ref);
  for (const prefix of ["refs/heads/", "refs/tags/"]) {
    const sha = await verifyCommit(gitDir, `${prefix}${ref}`);
    if (sha) return sha;
  }
  return null;
}

/** True when `ancestor` is reachable from `descendant` (also when they are equal). */
export async function isAncestor(
  gitDir: string | null,
  ancestor: string,
  descendant: string,
): Promise<boolean> {
  if (!gitDir) return ancestor === descendant;
  const r = await git(gitDir, ["merge-base", "--is-ancestor", ancestor, descendant]);
  return r.code === 0;
}

export interface DiffStats {
  commits: number;
  additions: number;
  deletions: number;
  changedFiles: number;
}

/** Same numbers GitHub reports on a pull: commits in base..head and the base...head diff size. */
export async function diffStats(gitDir: string | null, baseSha: string, headSha: string): Promise<DiffStats> {
  const empty = { commits: 0, additions: 0, deletions: 0, changedFiles: 0 };
  if (!gitDir || !SHA_RE.test(baseSha) || !SHA_RE.test(headSha)) return empty;
  const count = await git(gitDir, ["rev-list", "--count", `${baseSha}..${headSha}`]);
  const stat = await git(gitDir, ["diff", "--shortstat", `${baseSha}...${headSha}`]);
  const num = (re: RegExp) => Number(re.exec(stat.stdout)?.[1] ?? 0);
  return {
    commits: count.code === 0 ? Number(count.stdout) : 0,
    changedFiles: num(/(\d+) files? changed/),
    additions: num(/(\d+) insertions?\(\+\)/),
    deletions: num(/(\d+) deletions?\(-\)/),
  };
}
