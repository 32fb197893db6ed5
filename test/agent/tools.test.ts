import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type BashTool,
  createBashTool,
  createEditorTool,
  PathEscapeError,
  resolveInside,
} from "../../src/agent/tools/index.js";

const PATH = "/usr/local/bin:/usr/bin:/bin";
let tmp: string;
let root: string;
let outside: string;

beforeEach(async () => {
  tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), "awf-tools-")));
  root = path.join(tmp, "repo");
  outside = path.join(tmp, "outside");
  await mkdir(root);
  await mkdir(outside);
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function put(rel: string, text: string): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await writeFile(path.join(root, rel), text);
}

describe("resolveInside", () => {
  it("maps relative, absolute-inside and /repo paths into root", async () => {
    expect(await resolveInside(root, "src/a.ts")).toBe(path.join(root, "src/a.ts"));
    expect(await resolveInside(root, "/repo/src/a.ts")).toBe(path.join(root, "src/a.ts"));
    expect(await resolveInside(root, "/repo")).toBe(root);
    expect(await resolveInside(root, path.join(root, "x/y.ts"))).toBe(path.join(root, "x/y.ts"));
  });

  it("refuses .. escapes, absolute paths outside and .git", async () => {
    await expect(resolveInside(root, "../x")).rejects.toThrow(
      'Path "../x" is outside the repository; use paths inside /repo.',
    );
    await expect(resolveInside(root, "/etc/passwd")).rejects.toBeInstanceOf(PathEscapeError);
    await expect(resolveInside(root, "/repo/../etc")).rejects.toThrow(/outside the repository/);
    await expect(resolveInside(root, ".git/config")).rejects.toThrow(/inside \.git/);
    await expect(resolveInside(root, "/repo/sub/.git")).rejects.toThrow(/inside \.git/);
  });

  it("follows symlinks that stay inside and refuses ones that leave, even dangling", async () => {
    await put("real/f.txt", "x");
    await symlink(path.join(root, "real"), path.join(root, "alias"));
    expect(await resolveInside(root, "alias/f.txt")).toBe(path.join(root, "real/f.txt"));
    await symlink(outside, path.join(root, "out"));
    await expect(resolveInside(root, "out/new.txt")).rejects.toThrow(/symbolic link to outside/);
    await symlink(path.join(outside, "nope.txt"), path.join(root, "dangling"));
    await expect(resolveInside(root, "dangling")).rejects.toThrow(/symbolic link to outside/);
    await symlink(".git", path.join(root, "sneaky"));
    await expect(resolveInside(root, "sneaky/hooks/pre-commit")).rejects.toThrow(/inside \.git/);
  });
});

describe("editor tool", () => {
  const header = (p: string) => `Here's the result of running \`cat -n\` on ${p}:\n`;

  it("views a file with line numbers and a view_range", async () => {
    await put("a.txt", "alpha\nbeta\ngamma\n");
    const editor = createEditorTool({ root });
    expect(await editor.run({ command: "view", path: "a.txt" })).toEqual({
      isError: false,
      content: `${header("/repo/a.txt")}     1\talpha\n     2\tbeta\n     3\tgamma\n`,
    });
    const ranged = await editor.run({ command: "view", path: "/repo/a.txt", view_range: [2, -1] });
    expect(ranged.content).toBe(`${header("/repo/a.txt")}     2\tbeta\n     3\tgamma\n`);
    expect((await editor.run({ command: "view", path: "a.txt", view_range: [2, 2] })).content).toBe(
      `${header("/repo/a.txt")}     2\tbeta\n`,
    );
    expect((await editor.run({ command: "view", path: "a.txt", view_range: [9, 10] })).isError).toBe(true);
    expect(editor.touched()).toEqual([]);
  });

  it("truncates long views and refuses binary files", async () => {
    await put("long.txt", Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join("\n"));
    await writeFile(path.join(root, "bin.dat"), Buffer.from([1, 0, 2]));
    const editor = createEditorTool({ root, maxCharacters: 60 });
    expect(editor.definition).toEqual({
      type: "text_editor_20250728",
      name: "str_replace_based_edit_tool",
      max_characters: 60,
    });
    const view = await editor.run({ command: "view", path: "long.txt" });
    expect(view.content).toContain("     4\tline 4\n<response clipped: showing lines 1-4 of 1-100");
    expect(view.content).not.toContain("line 5");
    expect(await editor.run({ command: "view", path: "bin.dat" })).toMatchObject({
      isError: true,
      content: expect.stringMatching(/binary/),
    });
  });

  it("lists a directory two levels deep without hidden items or node_modules", async () => {
    await put("src/a.ts", "");
    await put("src/deep/b.ts", "");
    await put("src/deep/deeper/c.ts", "");
    await put(".hidden/x", "");
    await put("node_modules/pkg/index.js", "");
    await put("README.md", "");
    const result = await createEditorTool({ root }).run({ command: "view", path: "/repo" });
    expect(result.content).toBe(
      "Here's the files and directories up to 2 levels deep in /repo, excluding hidden items and node_modules:\n" +
        "/repo\n/repo/README.md\n/repo/src/\n/repo/src/a.ts\n/repo/src/deep/\n",
    );
  });

  it("creates files with parent directories and records them as touched", async () => {
    const editor = createEditorTool({ root });
    const result = await editor.run({
      command: "create",
      path: "/repo/new/dir/f.ts",
      file_text: "export {};\n",
    });
    expect(result).toEqual({ isError: false, content: "File created successfully at: /repo/new/dir/f.ts" });
    expect(await readFile(path.join(root, "new/dir/f.ts"), "utf8")).toBe("export {};\n");
    expect(editor.touched()).toEqual(["new/dir/f.ts"]);
  });

  it("str_replace edits one exact match and explains zero or multiple matches", async () => {
    await put("s.ts", "const a = 1;\nconst b = 2;\nconst a2 = 1;\n");
    const editor = createEditorTool({ root });
    const done = await editor.run({
      command: "str_replace",
      path: "s.ts",
      old_str: "b = 2",
      new_str: "b = '$&'",
    });
    expect(done.isError).toBe(false);
    expect(done.content).toContain("The file /repo/s.ts has been edited.");
    expect(done.content).toContain("     2\tconst b = '$&';");
    expect(await readFile(path.join(root, "s.ts"), "utf8")).toBe(
      "const a = 1;\nconst b = '$&';\nconst a2 = 1;\n",
    );

    const none = await editor.run({ command: "str_replace", path: "s.ts", old_str: "const c" });
    expect(none.isError).toBe(true);
    expect(none.content).toContain(
      "No replacement was performed, old_str did not appear verbatim in /repo/s.ts.",
    );
    const many = await editor.run({ command: "str_replace", path: "s.ts", old_str: "= 1;", new_str: "" });
    expect(many.isError).toBe(true);
    expect(many.content).toContain("Multiple occurrences of old_str in lines 1, 3");
    expect(editor.touched()).toEqual(["s.ts"]);
  });

  it("inserts at the beginning and after a middle line, accepting insert_text", async () => {
    await put("i.txt", "one\ntwo\nthree\n");
    const editor = createEditorTool({ root });
    expect(
      (await editor.run({ command: "insert", path: "i.txt", insert_line: 0, new_str: "zero" })).isError,
    ).toBe(false);
    const mid = await editor.run({
      command: "insert",
      path: "i.txt",
      insert_line: 2,
      insert_text: "one and a half\n",
    });
    expect(mid.content).toContain("     3\tone and a half");
    expect(await readFile(path.join(root, "i.txt"), "utf8")).toBe("zero\none\none and a half\ntwo\nthree\n");
    expect(
      (await editor.run({ command: "insert", path: "i.txt", insert_line: 99, new_str: "x" })).isError,
    ).toBe(true);
  });

  it("refuses escapes, .git and undo_edit as errors instead of throwing", async () => {
    await symlink(outside, path.join(root, "out"));
    await symlink(path.join(outside, "ghost.txt"), path.join(root, "ghost"));
    const editor = createEditorTool({ root });
    const cases = [
      { command: "view", path: "../x" },
      { command: "view", path: "/etc/passwd" },
      { command: "create", path: "out/pwned.txt", file_text: "x" },
      { command: "create", path: "ghost", file_text: "x" },
      { command: "create", path: ".git/config", file_text: "x" },
      { command: "undo_edit", path: "a.txt" },
      { command: "view" },
      "not an object",
    ];
    for (const input of cases) expect((await editor.run(input)).isError).toBe(true);
    expect(await readFile(path.join(outside, "ghost.txt")).catch(() => "absent")).toBe("absent");
    expect(await readFile(path.join(outside, "pwned.txt")).catch(() => "absent")).toBe("absent");
    expect((await editor.run({ command: "undo_edit", path: "a.txt" })).content).toMatch(/not supported/);
    expect(editor.touched()).toEqual([]);
  });
});

// A SIGKILLed orphan may linger as a zombie until its new parent reaps it; that is not a live process.
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

describe("bash tool", () => {
  let bash: BashTool | undefined;
  const open = (over: Partial<Parameters<typeof createBashTool>[0]> = {}) => {
    bash = createBashTool({
      cwd: root,
      env: { PATH, HOME: tmp },
      timeoutMs: 10_000,
      maxOutputChars: 10_000,
      ...over,
    });
    return bash;
  };
  afterEach(async () => {
    await bash?.close();
    bash = undefined;
  });

  it("keeps cwd and exported variables between commands", async () => {
    await mkdir(path.join(root, "sub"));
    const sh = open();
    expect(sh.definition).toEqual({ type: "bash_20250124", name: "bash" });
    expect(await sh.run({ command: "cd sub && export FOO=1" })).toEqual({
      isError: false,
      content: "(no output)",
    });
    expect(await sh.run({ command: "pwd; echo $FOO" })).toEqual({
      isError: false,
      content: `${path.join(root, "sub")}\n1`,
    });
  });

  it("reports non-zero exit codes and captures stderr", async () => {
    const sh = open();
    expect(await sh.run({ command: "echo out; echo err >&2; exit_with() { return 3; }; exit_with" })).toEqual(
      {
        isError: false,
        content: "out\nerr\nexit code 3",
      },
    );
    expect((await sh.run({ command: "echo 'unterminated" })).content).toMatch(
      /unexpected EOF[\s\S]*exit code 2$/,
    );
    expect((await sh.run({ command: "" })).isError).toBe(true);
  });

  it("passes exactly the given environment", async () => {
    const parentOnly = { GITHUB_TOKEN: "secret" };
    const sh = open({ env: { PATH, HOME: tmp, FAKE_VISIBLE: "yes" } });
    const env = (await sh.run({ command: "env" })).content;
    expect(env).toContain("FAKE_VISIBLE=yes");
    expect(env).toContain(`HOME=${tmp}`);
    expect(env).not.toContain(`GITHUB_TOKEN=${parentOnly.GITHUB_TOKEN}`);
    expect(env).not.toMatch(/^GITHUB_TOKEN=/m);
  });

  it("caps long output keeping head and tail", async () => {
    const sh = open({ maxOutputChars: 100 });
    const result = await sh.run({ command: "seq 1 100000" });
    expect(result.content.startsWith("1\n2\n3\n")).toBe(true);
    expect(result.content.endsWith("99999\n100000")).toBe(true);
    expect(result.content).toMatch(/\n\[\.\.\. \d+ characters omitted \.\.\.\]\n/);
    expect(result.content.length).toBeLessThan(160);
  });

  it("times out, kills the command and restarts the shell", async () => {
    const sh = open({ timeoutMs: 300 });
    const started = Date.now();
    const result = await sh.run({ command: "echo before; sleep 5" });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result.isError).toBe(true);
    expect(result.content).toMatch(
      /^before\nCommand timed out after 0\.3 s and was killed; the shell was restarted/,
    );
    expect(await sh.run({ command: "echo after" })).toEqual({ isError: false, content: "after" });
  });

  it("does not hang on commands that read stdin", async () => {
    const sh = open({ timeoutMs: 5_000 });
    expect(await sh.run({ command: "cat; echo done" })).toEqual({ isError: false, content: "done" });
  });

  it("aborts via AbortSignal and restarts on request", async () => {
    const sh = open();
    await sh.run({ command: "export KEEP=1" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    expect(await sh.run({ command: "sleep 20" }, controller.signal)).toEqual({
      isError: true,
      content: "aborted",
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    await sh.run({ command: "export KEEP=2" });
    expect(await sh.run({ restart: true })).toEqual({ isError: false, content: "tool has been restarted." });
    expect((await sh.run({ command: 'echo "[$KEEP]"' })).content).toBe("[]");
  });

  it("close leaves no processes behind", async () => {
    const sh = open();
    const pid = Number((await sh.run({ command: "sleep 30 & echo $!" })).content);
    expect(isAlive(pid)).toBe(true);
    await sh.close();
    const deadline = Date.now() + 2_000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(isAlive(pid)).toBe(false);
    expect((await sh.run({ command: "echo hi" })).isError).toBe(true);
  });

  it("close ends a running command promptly", async () => {
    const sh = open();
    const running = sh.run({ command: "sleep 20" });
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await sh.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await running).content).toMatch(/The shell exited/);
  });
});
