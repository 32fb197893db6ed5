// The agent's bash tool runs in its worktree and can run git there; the worker then commits,
// merges and pushes in the same repository outside the sandbox. These tests play an agent that
// plants commands in git's config and admin files, and check the worker runs none of them.
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, realpath, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Workspace } from "../../src/workspace/index.js";
import { type BareRemote, createBareRemote, git as humanGit } from "../helpers/git-remote.js";

const exec = promisify(execFile);
const BOT = { name: "Agent Bot", email: "bot@agents.example" };
const repo = { owner: "acme", name: "widgets" };
const BRANCH = "agent/eng-7";

let root: string;
let markers: string;
let remote: BareRemote;
let ws: Workspace;
let logs: string[];
let env: Record<string, string>;

/** git as the agent runs it: in the worktree, found through its `.git` file. */
const agentGit = async (cwd: string, ...args: string[]) => {
  const id = ["-c", "user.name=Agent", "-c", "user.email=agent@example.com"];
  return (await exec("git", [...id, ...args], { cwd, env })).stdout.trim();
};
/** A shell command that leaves evidence it ran. */
const mark = (name: string) => `touch ${join(markers, name)}; cat`;
const mirror = () => join(root, "data", "mirrors", "acme", "widgets.git");
const job = (key: string) => ({ repo, cloneUrl: remote.url, key, branch: BRANCH, baseBranch: "main" });

/** A human pushes an edit of notes.txt (first line) to the agent's branch. */
async function humanEdit(): Promise<void> {
  const dir = join(root, "human");
  await humanGit(root, "clone", "-q", "-b", BRANCH, remote.url, dir);
  await writeFile(join(dir, "notes.txt"), "A (human)\nb\nc\nd\ne\n");
  await humanGit(dir, "commit", "-qam", "human edit");
  await humanGit(dir, "push", "-q", "origin", BRANCH);
}

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), "awf-tamper-")));
  markers = join(root, "markers");
  await mkdir(markers);
  remote = await createBareRemote({ "notes.txt": "a\nb\nc\nd\ne\n" });
  env = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: root, LANG: "C.UTF-8" };
  logs = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void logs.push(line) });
  ws = new Workspace({ dataDir: join(root, "data"), baseEnv: env, logger });
});

afterEach(async () => {
  await remote.cleanup();
  await rm(root, { recursive: true, force: true });
});

describe("an agent tampering with git in its worktree", () => {
  it("cannot make the worker's commit, merge or push run its commands, and its config does not last", async () => {
    const wt = await ws.createWorktree(job("job-1"));
    await writeFile(join(wt.path, "feature.txt"), "v1\n");
    await wt.commitAll({ message: "v1", author: BOT });
    await wt.push({});
    await humanEdit();

    // What the agent does with its bash tool.
    const hooks = join(root, "hooks");
    await mkdir(hooks);
    for (const hook of ["post-commit", "pre-push", "post-merge", "post-checkout", "reference-transaction"]) {
      await writeFile(join(hooks, hook), `#!/bin/sh\n${mark(`hook-${hook}`)} </dev/null\n`);
      await chmod(join(hooks, hook), 0o755);
    }
    const included = join(root, "included.gitconfig");
    await writeFile(included, `[filter "evil"]\n\tsmudge = "${mark("include-smudge")}"\n`);
    const settings: Array<[string, string]> = [
      ["filter.evil.clean", mark("filter-clean")],
      ["merge.evil.driver", mark("merge-driver")],
      ["diff.external", mark("diff-external")],
      ["core.pager", mark("pager")],
      ["core.fsmonitor", mark("fsmonitor")],
      ["core.hooksPath", hooks],
      ["core.sshCommand", mark("ssh")],
      ["credential.helper", `!${mark("credential")}`],
      ["http.proxy", "http://127.0.0.1:9"],
      ["include.path", included],
      [`url.file://${join(root, "nowhere.git")}.insteadOf`, remote.url],
      ["core.bare", "false"],
    ];
    for (const [key, value] of settings) await agentGit(wt.path, "config", key, value);
    await agentGit(wt.path, "config", "core.repositoryformatversion", "1");
    await agentGit(wt.path, "config", "extensions.worktreeConfig", "true");
    await agentGit(wt.path, "config", "--worktree", "filter.evil.smudge", mark("worktree-smudge"));
    await writeFile(join(wt.path, ".gitattributes"), "* filter=evil merge=evil diff=evil\n");
    await writeFile(join(wt.path, "notes.txt"), "a\nb\nc\nd\nE (agent)\n");
    // Admin files last: after this the agent's own git no longer finds the repository.
    const evil = join(root, "evil.git");
    await exec("git", ["init", "-q", "--bare", evil], { env });
    await exec("git", ["config", "--file", join(evil, "config"), "filter.evil.clean", mark("commondir-clean")]);
    const admin = join(mirror(), "worktrees", "job-1");
    await writeFile(join(admin, "commondir"), `${evil}\n`);
    await writeFile(join(wt.path, ".git"), `gitdir: ${join(evil, "worktrees", "x")}\n`);

    // What the worker does after the agent's session ended: commit, merge the human's commit, push.
    const sha = await wt.commitAll({ message: "v2", author: BOT });
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    const pushed = await wt.push({});
    expect(pushed.pushed).toBe(true);
    expect(await wt.isDirty()).toBe(false);
    expect(await wt.diffAgainstBase()).toContain("E (agent)");
    await wt.remove();
    const next = await ws.createWorktree(job("job-2"));

    expect(await readdir(markers)).toEqual([]);
    expect(await remote.show(BRANCH, "notes.txt")).toBe("A (human)\nb\nc\nd\nE (agent)");
    expect(await remote.show(BRANCH, ".gitattributes")).toBe("* filter=evil merge=evil diff=evil");
    expect(logs.filter((l) => l.includes("cloned repository mirror"))).toHaveLength(1);
    expect(next.startSha).toBe(pushed.sha);

    // The shared mirror's config holds exactly what our code writes, nothing the agent set.
    const config = await exec("git", ["config", "--file", join(mirror(), "config"), "--list"], { env });
    expect(config.stdout.trim().split("\n")).toEqual([
      "core.repositoryformatversion=0",
      "core.filemode=true",
      "core.bare=true",
      "core.hookspath=/dev/null",
      "core.fsmonitor=false",
      `remote.origin.url=${remote.url}`,
      "remote.origin.pushurl=agent-workforce-no-push://disabled",
      "remote.origin.fetch=+refs/heads/*:refs/remotes/origin/*",
      "remote.origin.fetch=+refs/tags/*:refs/tags/*",
    ]);
    await expect(readFile(join(admin, "config.worktree"))).rejects.toThrow();
    // The next job's git sees none of the settings the agent planted in the shared mirror.
    for (const key of ["core.sshCommand", "http.proxy", "credential.helper", "include.path"]) {
      expect(await agentGit(next.path, "config", "--get", key).catch(() => "unset")).toBe("unset");
    }
    await next.remove();
  });

  it("does not run the config of a repository the agent nested in its worktree", async () => {
    const wt = await ws.createWorktree(job("job-1"));
    const nested = join(wt.path, "vendor", "lib");
    await mkdir(nested, { recursive: true });
    await agentGit(nested, "init", "-q", "-b", "main");
    await agentGit(nested, "config", "filter.evil.clean", mark("nested-clean"));
    await writeFile(join(nested, ".gitattributes"), "* filter=evil\n");
    await writeFile(join(nested, "lib.txt"), "lib\n");
    await agentGit(nested, "add", "-A");
    await agentGit(nested, "commit", "-qm", "lib");
    await agentGit(wt.path, "add", "vendor/lib");
    await agentGit(wt.path, "commit", "-qm", "vendor lib");
    // Same size, new mtime: git status inside the nested repository would have to re-hash
    // lib.txt through its clean filter.
    await rm(join(markers, "nested-clean"), { force: true });
    const later = new Date(Date.now() + 60_000);
    await utimes(join(nested, "lib.txt"), later, later);
    await writeFile(join(wt.path, "feature.txt"), "v1\n");

    expect(await wt.commitAll({ message: "v1", author: BOT })).toMatch(/^[0-9a-f]{40}$/);
    expect(await wt.isDirty()).toBe(false);
    expect((await wt.push({})).pushed).toBe(true);
    expect(await readdir(markers)).toEqual([]);
    expect(await remote.show(BRANCH, "feature.txt")).toBe("v1");
    await wt.remove();
  });
});
