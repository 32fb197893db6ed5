import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, open, readdir, readFile, realpath, rename, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openInside, verifyOpened } from "../../src/agent/tools/editor-fs.js";
import { createEditorTool, PathEscapeError, resolveInside } from "../../src/agent/tools/index.js";

// The agent's background processes can swap a path component for a symlink between the editor's
// check (resolveInside) and its use. These tests make that swap happen at exactly that moment.

let tmp: string;
let root: string;
let outside: string;

beforeEach(async () => {
  tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), "awf-editor-fs-")));
  root = path.join(tmp, "repo");
  outside = path.join(tmp, "outside");
  await mkdir(path.join(root, "sub"), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(root, "sub/f.txt"), "inside\n");
  await writeFile(path.join(outside, "f.txt"), "SECRET\n");
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Checks `rel` as the editor does, then swaps `sub` for a symlink to the outside directory. */
async function checkThenSwap(rel: string): Promise<string> {
  const target = await resolveInside(root, rel);
  await rename(path.join(root, "sub"), path.join(root, "sub.real"));
  await symlink(outside, path.join(root, "sub"));
  return target;
}

describe("editor file access after a path was swapped for a symlink", () => {
  it("refuses to read or edit through a parent directory swapped after the check", async () => {
    const target = await checkThenSwap("sub/f.txt");
    for (const mode of ["read", "update", "create"] as const) {
      await expect(openInside(root, target, "/repo/sub/f.txt", mode)).rejects.toThrow(
        /The path \/repo\/sub\/f\.txt changed while the editor was using it \(part of it is now a symbolic link\)/,
      );
    }
    expect(await readFile(path.join(outside, "f.txt"), "utf8")).toBe("SECRET\n");
  });

  it("creates no directory or file outside when a missing parent appears as a symlink", async () => {
    const target = await resolveInside(root, "new/deeper/file.txt");
    await symlink(outside, path.join(root, "new"));
    await expect(openInside(root, target, "/repo/new/deeper/file.txt", "create")).rejects.toBeInstanceOf(
      PathEscapeError,
    );
    expect(await readdir(outside)).toEqual(["f.txt"]);
  });

  it("refuses a file swapped for a symlink to the worker's environment", async () => {
    const target = await resolveInside(root, "sub/f.txt");
    await rm(target);
    await symlink("/proc/self/environ", target);
    for (const mode of ["read", "update", "create"] as const) {
      await expect(openInside(root, target, "/repo/sub/f.txt", mode)).rejects.toBeInstanceOf(PathEscapeError);
    }
  });

  it("proves where an opened descriptor really is, whatever path opened it", async () => {
    await symlink(outside, path.join(root, "link"));
    const through = path.join(root, "link/f.txt");
    const handle = await open(through, "r");
    try {
      await expect(verifyOpened(root, { handle, path: through }, "/repo/link/f.txt")).rejects.toThrow(
        /it now leads outside the repository/,
      );
    } finally {
      await handle.close();
    }
    const inside = await open(path.join(root, "sub/f.txt"), "r");
    try {
      await expect(verifyOpened(root, { handle: inside, path: path.join(root, "sub/f.txt") }, "x")).resolves.toBe(
        undefined,
      );
    } finally {
      await inside.close();
    }
  });

  it("still creates missing parents and edits through descriptors", async () => {
    const editor = createEditorTool({ root });
    expect((await editor.run({ command: "create", path: "a/b/c.txt", file_text: "long line\n" })).isError).toBe(
      false,
    );
    const edited = await editor.run({ command: "str_replace", path: "a/b/c.txt", old_str: "long line", new_str: "x" });
    expect(edited.isError).toBe(false);
    // Shorter content must not leave the old tail behind.
    expect(await readFile(path.join(root, "a/b/c.txt"), "utf8")).toBe("x\n");
    const dir = await editor.run({ command: "str_replace", path: "a", old_str: "x", new_str: "y" });
    expect(dir).toEqual({
      isError: true,
      content: "The path /repo/a is a directory; only the `view` command can be used on directories.",
    });
  });

  it("refuses a FIFO instead of blocking on it", async () => {
    const fifo = path.join(root, "pipe");
    await new Promise<void>((resolve, reject) =>
      spawn("mkfifo", [fifo]).once("close", (code) => (code === 0 ? resolve() : reject(new Error("mkfifo")))),
    );
    const result = await createEditorTool({ root }).run({ command: "view", path: "pipe" });
    expect(result).toMatchObject({ isError: true, content: expect.stringContaining("not a regular file") });
  });

  it("never reads or writes outside while another process keeps swapping a parent directory", async () => {
    await symlink(outside, path.join(root, "link"));
    // The swapping loop runs in its own process, like an agent's background job.
    const loop =
      "const fs = require('fs'); process.chdir(process.argv[1]);" +
      "const mv = (a, b) => { try { fs.renameSync(a, b); } catch {} };" +
      "for (;;) { mv('sub', 'real'); mv('link', 'sub'); mv('sub', 'link'); mv('real', 'sub'); }";
    const swapper = spawn(process.execPath, ["-e", loop, root], { stdio: "ignore" });
    const editor = createEditorTool({ root });
    const seen: string[] = [];
    try {
      for (let i = 0; i < 400; i++) {
        for (const input of [
          { command: "view", path: "sub/f.txt" },
          { command: "str_replace", path: "sub/f.txt", old_str: "SECRET", new_str: "PWNED" },
          { command: "create", path: "sub/new.txt", file_text: "PWNED\n" },
        ]) {
          seen.push((await editor.run(input)).content);
        }
      }
    } finally {
      swapper.kill("SIGKILL");
    }
    expect(seen.filter((c) => c.includes("SECRET"))).toEqual([]);
    expect(await readFile(path.join(outside, "f.txt"), "utf8")).toBe("SECRET\n");
    expect(existsSync(path.join(outside, "new.txt"))).toBe(false);
  });
});
