import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
const ID = ["-c", "user.name=Test Human", "-c", "user.email=human@example.com"];

/** Runs git and returns stdout. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec("git", [...ID, ...args], { cwd });
  return stdout.trim();
}

/** A real bare repository on disk acting as the GitHub remote, seeded with `files` on `main`. */
export interface BareRemote {
  dir: string;
  url: string;
  /** The content of `file` on `branch` in the remote, or null. */
  show(branch: string, file: string): Promise<string | null>;
  branches(): Promise<string[]>;
  log(branch: string): Promise<Array<{ sha: string; author: string; subject: string }>>;
  cleanup(): Promise<void>;
}

/** Creates a bare repo with one commit on main holding `files`. */
export async function createBareRemote(files: Record<string, string>): Promise<BareRemote> {
  const root = await mkdtemp(path.join(tmpdir(), "awf-remote-"));
  const dir = path.join(root, "remote.git");
  await exec("git", ["init", "--bare", "-q", "-b", "main", dir]);
  const seed = path.join(root, "seed");
  await exec("git", ["init", "-q", "-b", "main", seed]);
  for (const [name, content] of Object.entries(files)) {
    await exec("mkdir", ["-p", path.dirname(path.join(seed, name))]);
    await writeFile(path.join(seed, name), content);
  }
  await git(seed, "add", "-A");
  await git(seed, "commit", "-q", "-m", "initial commit");
  await git(seed, "push", "-q", dir, "main");
  return {
    dir,
    url: `file://${dir}`,
    async show(branch, file) {
      try {
        return await git(dir, "show", `${branch}:${file}`);
      } catch {
        return null;
      }
    },
    async branches() {
      const out = await git(dir, "for-each-ref", "--format=%(refname:short)", "refs/heads");
      return out ? out.split("\n") : [];
    },
    async log(branch) {
      const out = await git(dir, "log", "--format=%H%x09%an%x09%s", branch);
      return out.split("\n").map((l) => {
        const [sha, author, subject] = l.split("\t") as [string, string, string];
        return { sha, author, subject };
      });
    },
    async cleanup() {
      await rm(root, { recursive: true, force: true });
    },
  };
}
