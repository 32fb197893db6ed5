import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSpawner, sharedSpawner, type Spawner, SpawnerLostError } from "../../src/process/spawner.js";
import { execGit } from "../../src/workspace/git.js";
import { alive, pidIn, waitFor } from "../helpers/processes.js";

const execFileAsync = promisify(execFile);
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

let dir: string;
let spawner: Spawner;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "spawner-"));
  spawner = createSpawner();
});

afterAll(async () => {
  spawner.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs a shell that writes its pid to `file` and then becomes `sleep 30`. */
const sleeper = (file: string): [string, string[]] => ["sh", ["-c", `echo $$ > ${file}; exec sleep 30`]];

/** The fields of an execFile error that callers read. */
const shape = (err: any) => ({
  name: err.name,
  code: err.code,
  killed: err.killed,
  signal: err.signal,
  stdout: err.stdout,
  stderr: err.stderr,
  message: err.message,
});

describe("spawner", () => {
  it("returns stdout and stderr, and on a non-zero exit rejects exactly as execFile does", async () => {
    expect(await spawner.run("sh", ["-c", "echo out; echo err >&2"], { env })).toEqual({ stdout: "out\n", stderr: "err\n" });
    const args = ["-c", "echo out; echo err >&2; exit 3"];
    const viaHelper = await spawner.run("sh", args, { env }).catch((e) => e);
    const direct = await execFileAsync("sh", args, { env, encoding: "utf8" }).catch((e) => e);
    expect(shape(viaHelper)).toEqual(shape(direct));
    expect(viaHelper.code).toBe(3);
    expect(viaHelper.stdout).toBe("out\n");
  });

  it("passes cwd and exactly the given environment to the command", async () => {
    const out = await spawner.run("sh", ["-c", 'pwd; echo "$FOO"; echo "${NODE_OPTIONS-unset}"'], { cwd: dir, env: { ...env, FOO: "bar" } });
    expect(out.stdout.split("\n")).toEqual([await import("node:fs/promises").then((f) => f.realpath(dir)), "bar", "unset", ""]);
  });

  it("reports a command that cannot start with its string code, as execFile does", async () => {
    const err = await spawner.run("/nonexistent/command", [], { env }).catch((e) => e);
    const direct = await execFileAsync("/nonexistent/command", [], { env, encoding: "utf8" }).catch((e) => e);
    expect(err.code).toBe("ENOENT");
    expect(shape(err)).toEqual(shape(direct));
    // Arguments execFile refuses outright come back as its error, and the helper carries on.
    await expect(spawner.run("sh", ["a\0b"], { env })).rejects.toMatchObject({ code: "ERR_INVALID_ARG_VALUE" });
    expect((await spawner.run("true", [], { env })).stdout).toBe("");
  });

  it("cuts stdout at maxBuffer with ERR_CHILD_PROCESS_STDIO_MAXBUFFER and the partial output", async () => {
    const args = ["-c", "head -c 100000 /dev/zero | tr '\\0' x"];
    const err = await spawner.run("sh", args, { env, maxBuffer: 1000 }).catch((e) => e);
    const direct = await execFileAsync("sh", args, { env, maxBuffer: 1000, encoding: "utf8" }).catch((e) => e);
    expect(err.code).toBe("ERR_CHILD_PROCESS_STDIO_MAXBUFFER");
    expect(err.stdout).toMatch(/^x+$/);
    expect(err.stdout.length).toBeLessThanOrEqual(1000);
    expect(shape(err)).toEqual(shape(direct));
  });

  it("kills a command that outlives its timeout and marks the error killed", async () => {
    const file = join(dir, "timeout.pid");
    const [cmd, args] = sleeper(file);
    const err = await spawner.run(cmd, args, { env, timeout: 300 }).catch((e) => e);
    expect(err).toMatchObject({ killed: true, signal: "SIGTERM", code: null });
    const pid = await pidIn(file);
    await waitFor("the timed-out command to be gone", () => (alive(pid) ? undefined : true));
  });

  it("on abort kills the command and rejects with an AbortError once it is gone", async () => {
    const file = join(dir, "abort.pid");
    const [cmd, args] = sleeper(file);
    const controller = new AbortController();
    const running = spawner.run(cmd, args, { env, signal: controller.signal }).catch((e) => e);
    const pid = await pidIn(file);
    expect(alive(pid)).toBe(true);
    controller.abort(new Error("job cancelled"));
    const err = await running;
    expect(err).toMatchObject({ name: "AbortError", code: "ABORT_ERR" });
    expect(err.cause.message).toBe("job cancelled");
    // Rejected only once the helper saw the command exit: a caller never goes on while it runs.
    expect(alive(pid)).toBe(false);
    // An already aborted signal never starts the command.
    await expect(spawner.run("true", [], { env, signal: controller.signal })).rejects.toMatchObject({ name: "AbortError" });
  });

  it("rejects the in-flight calls when the helper dies, and the next call starts a new helper", async () => {
    const files = [join(dir, "death-1.pid"), join(dir, "death-2.pid")];
    const running = files.map((f) => spawner.run(...sleeper(f), { env }).catch((e) => e));
    const pids = await Promise.all(files.map(pidIn));
    const helper = spawner.helperPid()!;
    process.kill(helper, "SIGKILL");
    for (const err of await Promise.all(running)) {
      expect(err).toBeInstanceOf(SpawnerLostError);
      expect(err.message).toMatch(/spawner helper process exited \(SIGKILL\) while running sh.*retry the job/);
    }
    for (const pid of pids) process.kill(pid, "SIGKILL"); // orphans of the SIGKILLed helper
    expect(await spawner.run("sh", ["-c", "echo again"], { env })).toEqual({ stdout: "again\n", stderr: "" });
    expect(spawner.helperPid()).not.toBe(helper);
    expect(alive(helper)).toBe(false);
  });

  it("runs many commands at once through one helper", async () => {
    const outs = await Promise.all(Array.from({ length: 60 }, (_, i) => spawner.run("sh", ["-c", `sleep 0.05; echo ${i}`], { env })));
    expect(outs.map((o) => o.stdout)).toEqual(Array.from({ length: 60 }, (_, i) => `${i}\n`));
  });

  it("falls back to starting commands in-process when the helper cannot start, and warns once", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const broken = createSpawner({ execPath: "/nonexistent/node" });
      const results = await Promise.all([broken.run("sh", ["-c", "echo one"], { env }), broken.run("sh", ["-c", "echo two"], { env })]);
      expect(results.map((r) => r.stdout)).toEqual(["one\n", "two\n"]);
      expect(await broken.run("sh", ["-c", "exit 4"], { env }).catch((e) => e.code)).toBe(4);
      expect(broken.helperPid()).toBeUndefined();
      await waitFor("the fallback warning", () => (warnings.length ? true : undefined));
      expect(warnings.map((w) => (w as any).code)).toEqual(["AGENT_WORKFORCE_SPAWNER_FALLBACK"]);
      expect(warnings[0]!.message).toMatch(/Could not start the spawner helper process \(spawn \/nonexistent\/node ENOENT\)/);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("keeps a process alive while a call is in flight, and not after", async () => {
    const module = fileURLToPath(new URL("../../src/process/spawner.ts", import.meta.url));
    const script = `const { spawnFile } = await import(${JSON.stringify(module)});
      const r = await spawnFile("sh", ["-c", "sleep 0.3; echo done"], { env: { PATH: "/usr/bin:/bin" } });
      process.stdout.write(r.stdout);`;
    const started = Date.now();
    const { stdout } = await execFileAsync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { timeout: 20_000 });
    expect(stdout).toBe("done\n");
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe("execGit through the spawner", () => {
  it("throws when the helper dies under a git command instead of reporting an exit code", async () => {
    const file = join(dir, "git.pid");
    const running = execGit(["-c", `alias.slow=!echo $$ > ${file}; exec sleep 30`, "slow"], { baseEnv: env, cwd: dir }).catch((e) => e);
    const pid = await pidIn(file);
    process.kill(sharedSpawner.helperPid()!, "SIGKILL");
    const err = await running;
    process.kill(pid, "SIGKILL");
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/^git -c alias\.slow=.* slow was interrupted: The spawner helper process exited/);
    expect((await execGit(["--version"], { baseEnv: env })).stdout).toMatch(/^git version/);
  });
});
