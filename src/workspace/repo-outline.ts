import type { Git } from "./git.js";
import { mirrorGit } from "./guard.js";
import { assertBranchName } from "./names.js";
import type { RepoRef } from "./types.js";
import type { Workspace } from "./workspace.js";

/** What triage sees of a repository: its file paths (no contents) and its conventions files. */
export interface RepoOutline {
  files: string[];
  /** True when `files` was cut at the cap. */
  truncated: boolean;
  conventions: Array<{ file: string; text: string }>;
}

/** Paths listed at most. */
export const OUTLINE_MAX_PATHS = 1500;
// The same files and caps as the agent's prompt (src/agent/conventions.ts), read from the base
// branch in the mirror instead of a worktree: triage runs before any worktree exists.
const CONVENTION_FILES = ["AGENTS.md", "CLAUDE.md", "CONTRIBUTING.md", ".github/CONTRIBUTING.md", "README.md"];
const PER_FILE = 8_000;
const TOTAL = 24_000;
// A monorepo's listing can run to tens of megabytes; what is past this is cut, not read.
const LISTING_BUFFER = 16 * 1024 * 1024;

interface Entry {
  mode: string;
  type: string;
  sha: string;
  path: string;
}

/**
 * Reads the file tree and conventions files of `baseBranch` from the worker's mirror (fetched
 * first). Local git commands only after the fetch: the token is used by `ensureMirror` alone.
 */
export async function repoOutline(
  workspace: Workspace,
  p: { repo: RepoRef; cloneUrl: string; baseBranch: string; token?: string; signal?: AbortSignal },
): Promise<RepoOutline> {
  assertBranchName(p.baseBranch, "base branch");
  const mirror = await workspace.ensureMirror({ repo: p.repo, cloneUrl: p.cloneUrl, token: p.token, signal: p.signal });
  // The workspace's own runner (its environment and timeout), with the mirror's config restored
  // before each command as every workspace command does.
  const git = mirrorGit(workspace.gitRunner(), mirror, p.cloneUrl);
  const ref = `refs/remotes/origin/${p.baseBranch}`;
  const { entries, cut } = await listTree(git, ref, mirror, p);
  const blobs = entries.filter((e) => e.type === "blob");
  const { files, truncated } = capPaths(blobs.map((e) => e.path));
  const conventions = await readConventions(git, blobs, mirror, p.signal);
  return { files, truncated: truncated || cut, conventions };
}

async function listTree(
  git: Git,
  ref: string,
  mirror: string,
  p: { baseBranch: string; cloneUrl: string; signal?: AbortSignal },
): Promise<{ entries: Entry[]; cut: boolean }> {
  const args = ["ls-tree", "-r", "-z", "--full-tree", ref];
  const call = { cwd: mirror, signal: p.signal, maxBuffer: LISTING_BUFFER };
  const outcome = await git.probe(args, call);
  if (outcome.exitCode !== 0) {
    throw git.failure(
      args,
      call,
      outcome,
      `Reading the file tree of ${p.baseBranch} from ${p.cloneUrl} failed: check that the base branch exists on the remote.`,
    );
  }
  const records = outcome.stdout.split("\0").filter(Boolean);
  // A listing cut at the buffer ends in a partial record.
  if (outcome.truncated) records.pop();
  const entries = records.flatMap((r): Entry[] => {
    const m = /^(\d+) (\w+) ([0-9a-f]+)\t([\s\S]+)$/.exec(r);
    return m ? [{ mode: m[1]!, type: m[2]!, sha: m[3]!, path: m[4]! }] : [];
  });
  return { entries, cut: outcome.truncated };
}

/**
 * At most OUTLINE_MAX_PATHS paths, shallowest first so a large repository still shows its whole
 * layout rather than the first directories of the alphabet; returned in path order.
 */
export function capPaths(paths: string[]): { files: string[]; truncated: boolean } {
  if (paths.length <= OUTLINE_MAX_PATHS) return { files: [...paths].sort(), truncated: false };
  const depth = (s: string) => s.split("/").length;
  const kept = [...paths].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0)).slice(0, OUTLINE_MAX_PATHS);
  return { files: kept.sort(), truncated: true };
}

async function readConventions(
  git: Git,
  blobs: Entry[],
  mirror: string,
  signal: AbortSignal | undefined,
): Promise<Array<{ file: string; text: string }>> {
  const out: Array<{ file: string; text: string }> = [];
  let budget = TOTAL;
  for (const file of CONVENTION_FILES) {
    if (budget <= 0) break;
    // Regular files only: a symbolic link's blob is a path, not guidance.
    const entry = blobs.find((e) => e.path === file && (e.mode === "100644" || e.mode === "100755"));
    if (!entry) continue;
    // Capped read: a huge file is cut at the buffer instead of failing the outline.
    const outcome = await git.probe(["cat-file", "blob", entry.sha], { cwd: mirror, signal, maxBuffer: PER_FILE * 4 });
    if (outcome.exitCode !== 0) continue;
    const limit = Math.min(PER_FILE, budget);
    const text = outcome.stdout.length > limit ? `${outcome.stdout.slice(0, limit)}\n[... truncated ...]` : outcome.stdout;
    budget -= text.length;
    out.push({ file, text });
  }
  return out;
}
