import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { restoreWorktree } from "../../src/workspace/guard.js";

// The worktree's `.git` is put back before every git command of the service; another job's
// `git worktree prune` must never see it missing, or it deletes the worktree's admin directory.

let dir = "";
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function dirs() {
  dir = await mkdtemp(path.join(tmpdir(), "awf-restore-"));
  const w = { mirrorPath: path.join(dir, "mirror"), adminDir: path.join(dir, "mirror", "worktrees", "job"), path: path.join(dir, "wt") };
  await mkdir(w.adminDir, { recursive: true });
  await mkdir(w.path, { recursive: true });
  return w;
}

it("replaces a `.git` file in one rename, and a directory or symlink the agent put there", async () => {
  const w = await dirs();
  const dotGit = path.join(w.path, ".git");
  await writeFile(dotGit, "gitdir: /elsewhere\n");
  await restoreWorktree(w);
  expect(await readFile(dotGit, "utf8")).toBe(`gitdir: ${w.adminDir}\n`);
  expect(await readFile(path.join(w.adminDir, "gitdir"), "utf8")).toBe(`${dotGit}\n`);

  await rm(dotGit);
  await mkdir(path.join(dotGit, "objects"), { recursive: true });
  await restoreWorktree(w);
  expect((await lstat(dotGit)).isFile()).toBe(true);

  await rm(dotGit);
  await symlink("/etc", dotGit);
  await restoreWorktree(w);
  expect((await lstat(dotGit)).isFile()).toBe(true);
  expect(await readFile(dotGit, "utf8")).toBe(`gitdir: ${w.adminDir}\n`);
});
