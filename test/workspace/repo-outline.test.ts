import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { capPaths, repoOutline } from "../../src/workspace/repo-outline.js";
import { Workspace } from "../../src/workspace/workspace.js";
import { type BareRemote, createBareRemote, git } from "../helpers/git-remote.js";

const repo = { owner: "acme", name: "widgets" };
let root: string;
let ws: Workspace;
let remote: BareRemote;

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), "awf-outline-")));
  ws = new Workspace({ dataDir: join(root, "data"), baseEnv: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: root, LANG: "C.UTF-8" } });
});
afterEach(async () => {
  await remote?.cleanup();
  await rm(root, { recursive: true, force: true });
});

const outline = (over: { baseBranch?: string; signal?: AbortSignal; token?: string } = {}) =>
  repoOutline(ws, { repo, cloneUrl: remote.url, baseBranch: over.baseBranch ?? "main", token: over.token, signal: over.signal });

/** Commits `change` on main in a fresh clone of the remote and pushes it. */
async function pushChange(change: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(root, "clone-"));
  await git(root, "clone", "-q", remote.url, dir);
  await change(dir);
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", "change");
  await git(dir, "push", "-q", "origin", "HEAD:main");
}

describe("repoOutline", () => {
  it("lists the base branch's paths and reads its conventions files in the agent's order, capped", async () => {
    remote = await createBareRemote({
      "README.md": "# widgets\n",
      "CONTRIBUTING.md": "Run npm test.\n",
      "AGENTS.md": "x".repeat(9_000),
      "src/a b.ts": "export {};\n",
      "src/lib/deep.ts": "export {};\n",
      "docs/guide.md": "guide\n",
    });
    const o = await outline({ token: "ghp_not_used_over_file" });
    expect(o.files).toEqual(["AGENTS.md", "CONTRIBUTING.md", "README.md", "docs/guide.md", "src/a b.ts", "src/lib/deep.ts"]);
    expect(o.truncated).toBe(false);
    expect(o.conventions.map((c) => c.file)).toEqual(["AGENTS.md", "CONTRIBUTING.md", "README.md"]);
    expect(o.conventions[0]!.text).toBe(`${"x".repeat(8_000)}\n[... truncated ...]`);
    expect(o.conventions[1]!.text).toBe("Run npm test.\n");
  });

  it("fetches before reading, so a change pushed after the mirror was made shows", async () => {
    remote = await createBareRemote({ "README.md": "old\n" });
    expect((await outline()).conventions).toEqual([{ file: "README.md", text: "old\n" }]);
    await pushChange(async (dir) => {
      await writeFile(join(dir, "README.md"), "new\n");
      await writeFile(join(dir, "CLAUDE.md"), "be brief\n");
    });
    const o = await outline();
    expect(o.conventions).toEqual([
      { file: "CLAUDE.md", text: "be brief\n" },
      { file: "README.md", text: "new\n" },
    ]);
  });

  it("does not read a conventions file that is a symbolic link", async () => {
    remote = await createBareRemote({ "src/x.ts": "x\n" });
    await pushChange((dir) => symlink("/proc/self/environ", join(dir, "AGENTS.md")));
    const o = await outline();
    expect(o.files).toContain("AGENTS.md");
    expect(o.conventions).toEqual([]);
  });

  it("caps a large tree at 1500 paths, keeping the shallowest, and says it was cut", async () => {
    remote = await createBareRemote({ "README.md": "r\n", "package.json": "{}\n", "z/top.ts": "z\n" });
    await pushChange(async (dir) => {
      await mkdir(join(dir, "a", "deep"), { recursive: true });
      for (let i = 0; i < 1600; i++) await writeFile(join(dir, "a", "deep", `f${String(i).padStart(4, "0")}.ts`), `${i}\n`);
    });
    const o = await outline();
    expect(o.truncated).toBe(true);
    expect(o.files).toHaveLength(1500);
    expect(o.files).toEqual(expect.arrayContaining(["README.md", "package.json", "z/top.ts"]));
    expect(o.files).toEqual([...o.files].sort());
  });

  it("says to check the base branch when it does not exist", async () => {
    remote = await createBareRemote({ "README.md": "r\n" });
    await expect(outline({ baseBranch: "develop" })).rejects.toThrow(/check that the base branch exists on the remote/);
    await expect(outline({ baseBranch: "../etc" })).rejects.toThrow(/base branch/);
  });

  it("passes the job's signal on: an aborted outline stops", async () => {
    remote = await createBareRemote({ "README.md": "r\n" });
    const controller = new AbortController();
    controller.abort(new Error("job cancelled"));
    await expect(outline({ signal: controller.signal })).rejects.toThrow(/abort|cancel/i);
  });
});

describe("capPaths", () => {
  it("keeps everything under the cap, sorted", () => {
    expect(capPaths(["b", "a/c", "a"])).toEqual({ files: ["a", "a/c", "b"], truncated: false });
  });
});
