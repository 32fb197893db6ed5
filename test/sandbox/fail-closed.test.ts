import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeps } from "../../src/deps.js";
import { startSandbox } from "../../src/sandbox/sandbox.js";
import { testConfig } from "../helpers/config.js";
import { cleanPrefix, uniquePrefix } from "../helpers/redis.js";

const logger = pino({ level: "silent" });
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "awf-failclosed-"));
  // A PATH with bubblewrap and bash but without socat.
  await symlink("/usr/bin/bwrap", join(dir, "bwrap"));
  await symlink("/bin/sh", join(dir, "sh"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("the sandbox fails closed", () => {
  it("refuses to start without bubblewrap, naming the package and the way out", async () => {
    await expect(startSandbox({ mode: "bubblewrap", allowedDomains: [], path: "/nonexistent-bin", hidden: [], logger })).rejects.toThrow(
      /bubblewrap \(bwrap\) is not installed.*apt-get install bubblewrap socat ripgrep.*AGENT_SANDBOX=none/,
    );
  });

  it("refuses to start without socat when agents may reach the network, and starts without network when they may not", async () => {
    await expect(startSandbox({ mode: "bubblewrap", allowedDomains: ["registry.npmjs.org"], path: dir, hidden: [], logger })).rejects.toThrow(
      /socat is not installed.*AGENT_ALLOWED_DOMAINS= \(empty\)/,
    );
    const offline = await startSandbox({ mode: "bubblewrap", allowedDomains: [], path: dir, hidden: [], logger });
    expect(offline.kind).toBe("bubblewrap");
    await offline.close();
  });

  it("stops a worker from starting at all when the sandbox cannot start", async () => {
    const prefix = uniquePrefix("failclosed");
    try {
      await expect(createDeps(testConfig({ REDIS_PREFIX: prefix, PATH: "/nonexistent-bin", GITHUB_TOKEN: "ghp_x", LINEAR_API_KEY: "lin_x", ANTHROPIC_API_KEY: "sk-ant-x" }), { logger })).rejects.toThrow(/AGENT_SANDBOX=bubblewrap: bubblewrap \(bwrap\) is not installed/);
      // A process that runs only the webhook server needs no sandbox.
      const server = await createDeps(testConfig({ REDIS_PREFIX: prefix, PATH: "/nonexistent-bin", GITHUB_TOKEN: "ghp_x", LINEAR_API_KEY: "lin_x", ANTHROPIC_API_KEY: "sk-ant-x" }), { logger, roles: ["server"] });
      expect(() => server.sandbox.jail({ worktree: dir, home: dir, tmp: dir }, {})).toThrow(/runs no workers/);
      await server.close();
    } finally {
      await cleanPrefix(prefix);
    }
  });

  it("runs unsandboxed only when AGENT_SANDBOX=none says so", async () => {
    const none = await startSandbox({ mode: "none", allowedDomains: [], path: "/nonexistent-bin", hidden: [], logger });
    expect(none.kind).toBe("none");
    expect(none.jail({ worktree: dir, home: dir, tmp: dir }, { PATH: "/x" }).spawnSpec(["true"])).toEqual({
      command: "true",
      args: [],
      env: { PATH: "/x", HOME: dir, TMPDIR: dir },
    });
  });
});
