// A finished job's tree is parked and the next job on the repository reuses it. The agent had
// that tree to itself, so these tests play an agent that leaves traps in it, and check the next
// job's tree is exactly the commit it starts from, and that nothing outside the tree is touched.
import { execFile } from "node:child_process";
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_PARKED, PARKED_MAX_AGE_MS, parkDirFor } from "../../src/workspace/parked.js";
import { Workspace } from "../../src/workspace/index.js";
import { type BareRemote, createBareRemote, git } from "../helpers/git-remote.js";

const exec = promisify(execFile);
const repo = { owner: "acme", name: "widgets" };
const FILES = {
  "README.md": "# widgets\n",
  "src/a.ts": "export const a = 1;\n",
  "src/b.ts": "export const b = 2;\n",
  "bin/run.sh": "#!/bin/sh\necho run\n",
  ".gitignore": "dist/\nnode_modules/\n",
};

let root: string;
let remote: BareRemote;
let ws: Workspace;
let logs: string[];
let n = 0;

const job = (branch = `agent/eng-${++n}`) => ({ repo, cloneUrl: remote.url, key: `job-${n}`, branch, baseBranch: "main" });
const mirror = () => join(root, "data", "mirrors", "acme", "widgets.git");
const reusedCount = () => logs.filter((l) => l.includes('"msg":"created worktree"') && l.includes('"reused":true')).length;
const inode = async (path: string) => (await stat(path)).ino;
const parkedTrees = async () => (await readdir(parkDirFor(mirror()))).filter((n) => /^\d+-[0-9a-f]{8}$/.test(n));

/** Every path under dir (files, directories, links) relative to it, `.git` left out. */
async function tree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (rel === ".git") continue;
    out.push(rel);
    if (entry.isDirectory()) out.push(...(await tree(dir, rel)));
  }
  return out.sort();
}

/** What a fresh checkout of the base branch looks like: paths, contents, modes. */
async function expectPristine(path: string): Promise<void> {
  expect(await tree(path)).toEqual([".gitignore", "README.md", "bin", "bin/run.sh", "src", "src/a.ts", "src/b.ts"]);
  for (const [file, text] of Object.entries(FILES)) expect(await readFile(join(path, file), "utf8")).toBe(text);
  expect((await lstat(join(path, "src"))).isDirectory()).toBe(true);
  expect((await stat(join(path, "bin/run.sh"))).mode & 0o111).not.toBe(0);
  expect((await stat(join(path, "src/a.ts"))).mode & 0o111).toBe(0);
  expect((await exec("git", ["status", "--porcelain", "--ignored"], { cwd: path })).stdout).toBe("");
}

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), "awf-park-")));
  remote = await createBareRemote(FILES);
  const seed = join(root, "seed");
  await git(root, "clone", "-q", remote.url, seed);
  await chmod(join(seed, "bin/run.sh"), 0o755);
  await git(seed, "commit", "-q", "-am", "bin/run.sh is executable");
  await git(seed, "push", "-q", "origin", "main");
  logs = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void logs.push(line) });
  ws = new Workspace({ dataDir: join(root, "data"), baseEnv: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: root, LANG: "C.UTF-8" }, logger, parkSettleMs: 0 });
});

afterEach(async () => {
  await exec("chmod", ["-R", "u+rwx", root]).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
  await remote.cleanup();
});

describe("reusing a parked worktree", () => {
  it("keeps the files the agent did not touch and puts back everything it did", async () => {
    const first = await ws.createWorktree(job());
    await expectPristine(first.path);
    const untouched = await inode(join(first.path, "src/b.ts"));
    const outside = join(root, "outside");
    await mkdir(outside);
    await writeFile(join(outside, "a.ts"), "export const a = 1;\n");
    await writeFile(join(outside, "b.ts"), "export const b = 2;\n");
    // The agent's traps: edits, deletions, new and ignored files, a flipped mode, a `.git`
    // directory of its own, and a symlink out of the tree (nested repositories: the next test).
    await writeFile(join(first.path, "README.md"), "# pwned\n");
    await rm(join(first.path, ".gitignore"));
    await mkdir(join(first.path, "dist"));
    await writeFile(join(first.path, "dist/out.js"), "ignored\n");
    await mkdir(join(first.path, "node_modules/evil"), { recursive: true });
    await writeFile(join(first.path, "node_modules/evil/index.js"), "ignored\n");
    await chmod(join(first.path, "bin/run.sh"), 0o644);
    await chmod(join(first.path, "src/b.ts"), 0o644);
    const bPath = join(first.path, "src/b.ts");
    await first.remove();
    expect(await parkedTrees()).toHaveLength(1);
    expect(await readdir(parkDirFor(mirror()))).toContain(`${(await parkedTrees())[0]}.index`);

    const second = await ws.createWorktree(job());
    expect(reusedCount()).toBe(1);
    await expectPristine(second.path);
    expect(await inode(join(second.path, "src/b.ts"))).toBe(untouched);
    expect(bPath).not.toBe(join(second.path, "src/b.ts"));
    expect((await readFile(join(second.path, ".git"), "utf8")).trim()).toBe(`gitdir: ${second.gitPaths.adminDir}`);

    // A symlinked directory out of the tree, with the very same contents, and a `.git` directory.
    await rm(join(second.path, "src"), { recursive: true });
    await symlink(outside, join(second.path, "src"));
    await rm(join(second.path, ".git"));
    await mkdir(join(second.path, ".git"));
    await writeFile(join(second.path, ".git/config"), `[core]\n\tfsmonitor = touch ${join(root, "pwned")}\n`);
    await second.remove();
    const third = await ws.createWorktree(job());
    expect(reusedCount()).toBe(2);
    await expectPristine(third.path);
    expect((await tree(outside)).sort()).toEqual(["a.ts", "b.ts"]);
    await expect(stat(join(root, "pwned"))).rejects.toThrow(/ENOENT/);
    await third.remove();
  });

  it("never reuses a tree holding a .git below its root (git looks past it) or a .gitattributes (different bytes hash the same)", async () => {
    for (const plant of [
      async (tree: string) => {
        await mkdir(join(tree, "src/.git/hooks"), { recursive: true });
        await writeFile(join(tree, "src/.git/config"), `[core]\n\tfsmonitor = touch ${join(root, "pwned")}\n`);
      },
      async (tree: string) => writeFile(join(tree, "src/.gitattributes"), "*.ts text eol=crlf\n"),
      async (tree: string) => void (await exec("git", ["init", "-q", join(tree, "nested")])),
    ]) {
      const wt = await ws.createWorktree(job());
      const before = reusedCount();
      await plant(wt.path);
      await wt.remove();
      const next = await ws.createWorktree(job());
      expect(reusedCount()).toBe(before);
      await expectPristine(next.path);
      await next.remove();
    }
    expect(logs.filter((l) => l.includes("holds a nested .git or a .gitattributes"))).toHaveLength(3);
    await expect(stat(join(root, "pwned"))).rejects.toThrow(/ENOENT/);
  });

  it("sweeps expired parked trees and a crashed worker's leftovers when it parks, and everything once parking is off", async () => {
    const park = parkDirFor(mirror());
    const first = await ws.createWorktree(job());
    await first.remove();
    const old = Date.now() - PARKED_MAX_AGE_MS - 60_000;
    const stale = [`${old}-deadbeef`, ".claim-0badc0de", ".trash-0badc0de", `${old + 1}-cafebabe.index`];
    for (const name of stale) {
      await mkdir(join(park, name), { recursive: true });
      await utimes(join(park, name), new Date(old), new Date(old));
    }
    const second = await ws.createWorktree(job());
    expect(reusedCount()).toBe(1);
    await second.remove();
    const left = await readdir(park);
    for (const name of stale) expect(left).not.toContain(name);
    expect(await parkedTrees()).toHaveLength(1);
    const logger = pino({ level: "debug" }, { write: (line: string) => void logs.push(line) });
    const off = new Workspace({ dataDir: join(root, "data"), baseEnv: { PATH: "/usr/bin:/bin", HOME: root }, maxParked: 0, parkSettleMs: 0, logger });
    const third = await off.createWorktree(job());
    // The tree parked a moment ago is there and settled, yet not taken.
    expect(logs.filter((l) => l.includes('"msg":"created worktree"')).at(-1)).toContain('"reused":false');
    await third.remove();
    await expect(stat(park)).rejects.toThrow(/ENOENT/);
  });

  it("hashes every file: an edit that keeps the size and the mtime is still put back", async () => {
    const first = await ws.createWorktree(job());
    const file = join(first.path, "src/a.ts");
    const before = await stat(file);
    await writeFile(file, "export const a = 9;\n");
    await utimes(file, before.atime, before.mtime);
    await first.remove();
    const second = await ws.createWorktree(job());
    expect(reusedCount()).toBe(1);
    await expectPristine(second.path);
  });

  it("without the parked index (a crash between the two renames) it hashes every file and still puts back every edit", async () => {
    const first = await ws.createWorktree(job());
    const file = join(first.path, "src/a.ts");
    const before = await stat(file);
    await writeFile(file, "export const a = 9;\n");
    await utimes(file, before.atime, before.mtime);
    await writeFile(join(first.path, "stray.txt"), "left behind\n");
    await first.remove();
    const [name] = await parkedTrees();
    await rm(join(parkDirFor(mirror()), `${name}.index`));
    const second = await ws.createWorktree(job());
    expect(reusedCount()).toBe(1);
    await expectPristine(second.path);
  });

  it("gives a repository with submodules a fresh tree: what the agent left in a gitlink's directory does not carry over", async () => {
    const seed = join(root, "seed");
    const sha = await git(seed, "rev-parse", "HEAD");
    await git(seed, "update-index", "--add", "--cacheinfo", `160000,${sha},vendor/lib`);
    await git(seed, "commit", "-q", "-m", "a submodule");
    await git(seed, "push", "-q", "origin", "main");
    const first = await ws.createWorktree(job());
    await mkdir(join(first.path, "vendor/lib"), { recursive: true });
    await writeFile(join(first.path, "vendor/lib/planted.js"), "planted\n");
    const planted = await inode(join(first.path, "README.md"));
    await first.remove();
    const second = await ws.createWorktree(job());
    expect(reusedCount()).toBe(0);
    expect(logs.some((l) => l.includes("writing it afresh"))).toBe(true);
    expect(await inode(join(second.path, "README.md"))).not.toBe(planted);
    expect(await readdir(join(second.path, "vendor/lib")).catch(() => [])).toEqual([]);
    expect((await exec("git", ["status", "--porcelain", "--ignored"], { cwd: second.path })).stdout).toBe("");
    await second.remove();
  });

  it("takes each parked tree once, waits until it settled, keeps at most the configured number, and keeps none at 0", async () => {
    const all = await Promise.all(Array.from({ length: DEFAULT_PARKED + 2 }, () => ws.createWorktree(job())));
    for (const wt of all) await wt.remove();
    expect((await parkedTrees())).toHaveLength(DEFAULT_PARKED);
    const again = await Promise.all([ws.createWorktree(job()), ws.createWorktree(job())]);
    expect(reusedCount()).toBe(2);
    for (const wt of again) await expectPristine(wt.path);
    expect(new Set(await Promise.all(again.map((wt) => inode(join(wt.path, "README.md")))))).toHaveProperty("size", 2);
    for (const wt of again) await wt.remove();

    // A tree parked a moment ago is not taken while it settles.
    const patient = new Workspace({ dataDir: join(root, "data"), baseEnv: { PATH: "/usr/bin:/bin", HOME: root }, parkSettleMs: 60_000 });
    const fresh = await patient.createWorktree(job());
    await expectPristine(fresh.path);
    expect((await parkedTrees())).toHaveLength(DEFAULT_PARKED);
    await fresh.remove();
    const none = new Workspace({ dataDir: join(root, "none"), baseEnv: { PATH: "/usr/bin:/bin", HOME: root }, maxParked: 0 });
    const gone = await none.createWorktree(job());
    await gone.remove();
    await expect(stat(gone.path)).rejects.toThrow(/ENOENT/);
    expect(await readdir(join(root, "none", "mirrors", "acme", "widgets.git.parked")).catch(() => [])).toEqual([]);
  });

  it("claims a parked tree while the job waits for its fetch, and deletes it when the fetch fails", async () => {
    const first = await ws.createWorktree(job());
    await first.remove();
    expect(await parkedTrees()).toHaveLength(1);
    // The remote is gone: the hold's fetch fails after the job has already claimed the tree.
    const moved = `${remote.dir}.away`;
    await exec("mv", [remote.dir, moved]);
    await expect(ws.createWorktree(job())).rejects.toThrow(/Fetching .* failed/);
    expect(await readdir(parkDirFor(mirror()))).toEqual([]);
    await exec("mv", [moved, remote.dir]);
    const next = await ws.createWorktree(job());
    await expectPristine(next.path);
    expect(reusedCount()).toBe(0);
    await next.remove();
  });
});
