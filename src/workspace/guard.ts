import { randomUUID } from "node:crypto";
import { lstat, realpath, rename, rm, writeFile } from "node:fs/promises";
import { join, sep } from "node:path";
import type { Git } from "./git.js";

/*
 * The agent's bash tool can run git in its worktree, and a worktree shares the mirror's config:
 * `git config filter.x.clean <cmd>` (or diff.external, core.sshCommand, credential.helper,
 * include.path, http.proxy, ...) would run its command, or hand it the token, when the worker
 * later runs git outside the sandbox. The agent can also rewrite the admin files that tell git
 * where the repository is. Rather than recognise every dangerous key, the worker puts back the
 * state its own code wrote before each of its git commands.
 */

/**
 * The agent cannot push through origin with a credential helper or an ambient credential: the
 * push URL names a scheme no git transport understands. Our own push names the real URL.
 */
export const DISABLED_PUSH_URL = "agent-workforce-no-push://disabled";

// Not `--mirror`: mirror refspecs (+refs/*:refs/*) would overwrite or prune the local agent
// branches that worktrees have checked out. Tags are force-updated so a moved upstream tag
// cannot make every fetch fail.
const FETCH_REFSPECS = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"];

function quote(value: string): string {
  if (/\p{Cc}/u.test(value)) {
    throw new Error(`Cannot write ${JSON.stringify(value)} to git config: it contains control characters`);
  }
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/**
 * The mirror's entire config. Written wholesale, so no key anyone else added survives; no
 * extensions either (extensions.worktreeConfig would make git read config.worktree files).
 */
export function mirrorConfig(cloneUrl: string): string {
  return [
    "# Rewritten by agent-workforce before each of its git commands: changes do not last.",
    "[core]",
    "\trepositoryformatversion = 0",
    "\tfilemode = true",
    "\tbare = true",
    "\thooksPath = /dev/null",
    "\tfsmonitor = false",
    '[remote "origin"]',
    `\turl = ${quote(cloneUrl)}`,
    `\tpushurl = ${DISABLED_PUSH_URL}`,
    ...FETCH_REFSPECS.map((refspec) => `\tfetch = ${refspec}`),
    "",
  ].join("\n");
}

/** Replaces path by a new file; rename replaces a symlink planted there instead of writing through it. */
async function replaceFile(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp-${randomUUID().slice(0, 8)}`;
  try {
    await writeFile(tmp, content, { flag: "wx", mode: 0o644 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new Error(
      `Cannot restore ${path}: check that the data directory is writable and ${path} is not a directory`,
      { cause: err },
    );
  }
}

/**
 * Rewrites the mirror's config and deletes files that would make git read config from elsewhere.
 * A worktree's own `config.worktree` is restoreWorktree's: git reads it only under
 * extensions.worktreeConfig, which the rewritten config never has, and sweeping every admin
 * directory before every command cost a few thousand file checks per task with 50 jobs running.
 */
export async function restoreMirror(mirrorPath: string, cloneUrl: string): Promise<void> {
  await replaceFile(join(mirrorPath, "config"), mirrorConfig(cloneUrl));
  const strays = [join(mirrorPath, "config.worktree"), join(mirrorPath, "commondir")];
  await Promise.all(strays.map((path) => rm(path, { recursive: true, force: true })));
}

/** A runner for the mirror that restores its config before every command. */
export function mirrorGit(git: Git, mirrorPath: string, cloneUrl: string): Git {
  return git.at({ gitDir: mirrorPath }, () => restoreMirror(mirrorPath, cloneUrl));
}

/** Where one worktree lives and the admin directory `git worktree add` made for it in the mirror. */
export interface WorktreeDirs {
  mirrorPath: string;
  adminDir: string;
  path: string;
}

/**
 * Puts back the links between a worktree and its admin directory: `commondir` (where config is
 * read from), `gitdir` (which directory `git worktree remove` deletes) and the worktree's `.git`.
 */
export async function restoreWorktree(w: WorktreeDirs): Promise<void> {
  for (const dir of [w.adminDir, w.path]) {
    // lstat: a symlink in place of either would send our git (and our writes) elsewhere.
    if (!(await lstat(dir).catch(() => null))?.isDirectory()) {
      throw new Error(
        `${dir} is no longer a directory (the agent may have replaced it): refusing to run git there`,
      );
    }
  }
  await rm(join(w.adminDir, "config.worktree"), { recursive: true, force: true });
  await replaceFile(join(w.adminDir, "commondir"), "../..\n");
  await replaceFile(join(w.adminDir, "gitdir"), `${join(w.path, ".git")}\n`);
  // Only a directory in its place is removed first: a file or symlink is replaced in one rename,
  // so another job's `git worktree prune` never sees this worktree without its `.git` and
  // deletes its admin directory (then its git commands fail with "not a git repository").
  const dotGit = join(w.path, ".git");
  if ((await lstat(dotGit).catch(() => null))?.isDirectory()) await rm(dotGit, { recursive: true, force: true });
  await replaceFile(dotGit, `gitdir: ${w.adminDir}\n`);
}

/**
 * `git add` and `git status` run `git status` inside every checked-out submodule, which honours
 * that repository's own config (a clean filter, say), and the agent can make one: any directory
 * holding a `.git` that the index records as a gitlink. Deleting those `.git` entries leaves git
 * nothing to run; it then treats the gitlink as a submodule that is not checked out.
 */
export async function dropNestedRepos(git: Git, worktree: string): Promise<void> {
  const out = await git.run(["ls-files", "--stage", "-z"], { cwd: worktree });
  const root = await realpath(worktree);
  for (const entry of out.split("\0")) {
    if (!entry.startsWith("160000 ")) continue;
    const dir = await realpath(join(worktree, entry.slice(entry.indexOf("\t") + 1))).catch(() => null);
    // The index is the agent's too: only delete inside the worktree.
    if (dir?.startsWith(root + sep)) await rm(join(dir, ".git"), { recursive: true, force: true });
  }
}
