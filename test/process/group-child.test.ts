// Long-running commands in a process group of their own (the agent's shell, the checks), started
// by the spawner helper so the worker never forks itself, with their output streamed back.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GroupChild } from "../../src/process/group-child.js";
import { createSpawner, type Spawner, SpawnerLostError } from "../../src/process/spawner.js";
import { alive, pidIn, waitFor } from "../helpers/processes.js";

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

let dir: string;
let spawner: Spawner;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "group-child-"));
  spawner = createSpawner();
});

afterAll(async () => {
  spawner.close();
  await rm(dir, { recursive: true, force: true });
});

/** Everything a group child printed, and how it ended ("close", or "error" with its message). */
function collect(child: GroupChild): { output: () => string; ended: Promise<{ code: number | null; signal: string | null } | { error: Error }> } {
  const chunks: Buffer[] = [];
  child.on("output", (c: Buffer) => chunks.push(c));
  const ended = new Promise<{ code: number | null; signal: string | null } | { error: Error }>((resolve) => {
    child.once("close", (code: number | null, signal: string | null) => resolve({ code, signal }));
    child.once("error", (error: Error) => resolve({ error }));
  });
  return { output: () => Buffer.concat(chunks).toString("utf8"), ended };
}

describe("group children", () => {
  it("run in the helper, not this process, and stream stdout and stderr with the exit code", async () => {
    const child = spawner.spawnGroup("sh", ["-c", "echo out; echo err >&2; echo parent $PPID; exit 3"], { env, stdin: false });
    const { output, ended } = collect(child);
    expect(await ended).toEqual({ code: 3, signal: null });
    expect(output()).toContain("out\n");
    expect(output()).toContain("err\n");
    expect(output()).toContain(`parent ${spawner.helperPid()}\n`);
    expect(spawner.helperPid()).not.toBe(process.pid);
    expect(child.stdoutEnded).toBe(true);
  });

  it("take input on stdin until it is closed", async () => {
    const child = spawner.spawnGroup("sh", [], { env, stdin: true });
    const { output, ended } = collect(child);
    child.write("echo one\n");
    await waitFor("the first answer", () => (output().includes("one\n") ? true : undefined));
    child.write("echo two\n");
    child.endInput();
    expect(await ended).toEqual({ code: 0, signal: null });
    expect(output()).toBe("one\ntwo\n");
  });

  it("are killed as a whole group: what they started in the background dies too", async () => {
    const file = join(dir, "background.pid");
    const child = spawner.spawnGroup("sh", ["-c", `sleep 30 & echo $! > ${file}; wait`], { env, stdin: false });
    const { ended } = collect(child);
    const background = await pidIn(file);
    expect(alive(background)).toBe(true);
    child.killGroup("SIGKILL");
    expect(await ended).toEqual({ code: null, signal: "SIGKILL" });
    await waitFor("the background sleep to die", () => (alive(background) ? undefined : true));
  });

  it("take down, when they close, what they left running in the background, and are not signalled after", async () => {
    const file = join(dir, "outliving.pid");
    const child = spawner.spawnGroup("sh", ["-c", `sleep 30 >/dev/null 2>&1 & echo $! > ${file}; exit 0`], { env, stdin: false });
    const { ended } = collect(child);
    expect(await ended).toEqual({ code: 0, signal: null });
    const background = await pidIn(file);
    await waitFor("the background sleep to die", () => (alive(background) ? undefined : true));
    // Its group id may belong to someone else by now.
    expect(() => child.killGroup("SIGKILL")).not.toThrow();
  });

  it("keep printing through a flood of output, and end once", async () => {
    const child = spawner.spawnGroup("sh", ["-c", "head -c 20000000 /dev/zero | tr '\\0' x; echo; echo done"], { env, stdin: false });
    let bytes = 0;
    let tail = "";
    child.on("output", (c: Buffer) => {
      bytes += c.length;
      tail = (tail + c.toString("latin1")).slice(-16);
    });
    const ends: string[] = [];
    child.on("close", () => ends.push("close"));
    child.on("error", () => ends.push("error"));
    await new Promise((resolve) => child.once("close", resolve));
    expect(bytes).toBe(20_000_000 + "\ndone\n".length);
    expect(tail.endsWith("x\ndone\n")).toBe(true);
    expect(ends).toEqual(["close"]);
  });

  it("report a command that cannot start as an error", async () => {
    const { ended } = collect(spawner.spawnGroup("/nonexistent/command", [], { env, stdin: false }));
    const end = await ended;
    expect("error" in end && end.error.message).toMatch(/ENOENT/);
  });

  it("end with an error, their group killed, when the helper dies under them", async () => {
    const file = join(dir, "orphan.pid");
    const child = spawner.spawnGroup("sh", ["-c", `sleep 30 & echo $! > ${file}; wait`], { env, stdin: false });
    const { ended } = collect(child);
    const background = await pidIn(file);
    process.kill(spawner.helperPid()!, "SIGKILL");
    const end = await ended;
    expect("error" in end && end.error).toBeInstanceOf(SpawnerLostError);
    await waitFor("the orphaned group to die", () => (alive(background) ? undefined : true));
  });

  it("started here instead, still get what was written to them and asked of them before", async () => {
    const broken = createSpawner({ execPath: "/nonexistent/node" });
    const child = broken.spawnGroup("sh", [], { env, stdin: true });
    const { output, ended } = collect(child);
    child.write("echo written early\n");
    child.endInput();
    expect(await ended).toEqual({ code: 0, signal: null });
    expect(output()).toBe("written early\n");
    const killed = broken.spawnGroup("sleep", ["30"], { env, stdin: false });
    const end = collect(killed).ended;
    killed.killGroup("SIGKILL");
    expect(await end).toEqual({ code: null, signal: "SIGKILL" });
  });

  it("start from this process when the helper cannot start", async () => {
    const broken = createSpawner({ execPath: "/nonexistent/node" });
    // The first command finds the helper missing: it, and everything after it, starts here.
    const child = broken.spawnGroup("sh", ["-c", "echo parent $PPID"], { env, stdin: false });
    const { output, ended } = collect(child);
    expect(await ended).toEqual({ code: 0, signal: null });
    expect(output()).toBe(`parent ${process.pid}\n`);
  });
});
