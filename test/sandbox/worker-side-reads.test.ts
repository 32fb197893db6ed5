// What the worker itself reads or mounts from places the agent can write must never follow the
// agent's symlinks out of them.
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readConventions } from "../../src/agent/conventions.js";
import { startSandbox } from "../../src/sandbox/sandbox.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "awf-reads-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("worker-side reads of agent-writable places", () => {
  it("reads conventions files only as regular files inside the worktree, never through a symlink", async () => {
    const worktree = join(dir, "wt");
    await mkdir(worktree);
    process.env.AWF_TEST_CONVENTIONS_SECRET = "s3cret-from-the-worker";
    try {
      await symlink("/proc/self/environ", join(worktree, "AGENTS.md"));
      await symlink("/etc/passwd", join(worktree, "CLAUDE.md"));
      await writeFile(join(worktree, "README.md"), "# project\n");
      const files = await readConventions(worktree);
      expect(files).toEqual([{ file: "README.md", text: "# project\n" }]);
      expect(JSON.stringify(files)).not.toContain("s3cret-from-the-worker");
    } finally {
      delete process.env.AWF_TEST_CONVENTIONS_SECRET;
    }
  });

  it("starts no sandbox whose writable directory was swapped for a symlink", async () => {
    const sandbox = await startSandbox({ mode: "bubblewrap", allowedDomains: [], path: "/usr/local/bin:/usr/bin:/bin", hidden: [], logger: pino({ level: "silent" }) });
    try {
      const [worktree, home] = [join(dir, "w2"), join(dir, "h2")];
      await Promise.all([mkdir(worktree), mkdir(home)]);
      await symlink("/", join(dir, "t2"));
      const jail = sandbox.jail({ worktree, home, tmp: join(dir, "t2") }, {});
      expect(() => jail.spawnSpec(["true"])).toThrow(/is not a plain directory/);
    } finally {
      await sandbox.close();
    }
  });
});
