import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "./helpers/world.js";

const exec = promisify(execFile);
const CLI = new URL("../src/cli.ts", import.meta.url).pathname;

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["--import", "tsx", CLI, ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("agent-workforce CLI", () => {
  // Eight CLI starts of about 3 s each (tsx compiles on start): run side by side, with room for a loaded machine.
  it("every command has --help, and unknown commands say what exists", { timeout: 90_000 }, async () => {
    const commands = ["start", "serve", "worker", "doctor", "status", "demo"];
    const [helps, help, unknown] = await Promise.all([
      Promise.all(commands.map((command) => cli([command, "--help"]))),
      cli(["help"]),
      cli(["frobnicate"]),
    ]);
    commands.forEach((command, i) => {
      expect(helps[i]?.code).toBe(0);
      expect(helps[i]?.stdout).toContain(`Usage: agent-workforce ${command}`);
    });
    expect(help.stdout).toMatch(/doctor .*\n.*status/s);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "frobnicate"');
  });

  it("a partial set of credentials fails start-up naming every missing variable", async () => {
    const r = await cli(["start"], { GITHUB_TOKEN: "ghp_only_this" });
    expect(r.code).toBe(78);
    for (const name of ["GITHUB_WEBHOOK_SECRET", "LINEAR_WEBHOOK_SECRET", "LINEAR_API_KEY", "ANTHROPIC_API_KEY"]) {
      expect(r.stderr).toContain(name);
    }
    expect(r.stderr).not.toContain("ghp_only_this");
  });

  it("doctor checks every connection and status prints the task table", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([
      { content: [{ type: "tool_use", name: "str_replace_based_edit_tool", input: { command: "create", path: "greet.txt", file_text: "hello, world\n" } }] },
      { content: [{ type: "text", text: "## Summary\nDone." }] },
    ]);
    expect(await w.waitForJob((await w.labelIssue(issue)).body.jobId as string)).toBe("completed");

    const doctor = await cli(["doctor"], w.env);
    expect(doctor.stdout).toMatch(/✓ redis .*noeviction/);
    expect(doctor.stdout).toMatch(/✓ github token +authenticated as agent-workforce-bot/);
    expect(doctor.stdout).toMatch(/✓ linear key +authenticated as/);
    expect(doctor.stdout).toMatch(/✓ anthropic key +accepted/);
    expect(doctor.stdout).toContain("Everything looks right.");
    expect(doctor.code).toBe(0);
    for (const secret of w.secrets) expect(doctor.stdout).not.toContain(secret);

    const bad = await cli(["doctor"], { ...w.env, GITHUB_TOKEN: "ghp_wrong" });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ github token .*check GITHUB_TOKEN/);

    const status = await cli(["status"], w.env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/ISSUE +STATE +REPOSITORY +PR/);
    expect(status.stdout).toMatch(/ENG-1 +Pull request open, awaiting review +acme\/widgets +#1 +2/);
  });
});
