import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { bwrapArgs } from "./bwrap-args.js";

const SOCAT_MISSING = 42;

/** Finds bwrap on the agents' PATH and returns its absolute path. */
export function findBubblewrap(pathVar: string): string | null {
  const dirs = pathVar.split(":").filter((d) => path.isAbsolute(d));
  return dirs.map((d) => path.join(d, "bwrap")).find((p) => existsSync(p)) ?? null;
}

/**
 * Proves the sandbox can start here by running a command in a scratch scope exactly as a job
 * would. Throws an error that names the cause and the fix; returns the path of bwrap.
 */
export async function probeBubblewrap(p: { needSocat: boolean; path: string; readOnly: readonly string[] }): Promise<string> {
  const bwrap = findBubblewrap(p.path);
  if (!bwrap) {
    throw new Error(
      "AGENT_SANDBOX=bubblewrap: bubblewrap (bwrap) is not installed, so agent commands cannot be isolated and no agent will run. " +
        "Install it (Debian/Ubuntu: apt-get install bubblewrap socat ripgrep), or set AGENT_SANDBOX=none to run agents without isolation (not recommended).",
    );
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), "awf-probe-"));
  try {
    const scope = { worktree: path.join(dir, "w"), home: path.join(dir, "h"), tmp: path.join(dir, "t") };
    await Promise.all([scope.worktree, scope.home, scope.tmp].map((d) => mkdir(d)));
    const script = p.needSocat ? `command -v socat >/dev/null || exit ${SOCAT_MISSING}` : "true";
    const args = [...bwrapArgs({ scope, readOnly: p.readOnly, proxySocket: null }), "--", "/bin/sh", "-c", script];
    const { code, stderr } = await run(bwrap, args, { PATH: p.path });
    if (code === SOCAT_MISSING) {
      throw new Error(
        "AGENT_SANDBOX=bubblewrap: socat is not installed, and the sandbox needs it to offer the allowlisting proxy inside (AGENT_ALLOWED_DOMAINS is set). " +
          "Install it (apt-get install socat), or set AGENT_ALLOWED_DOMAINS= (empty) to give agents no network at all.",
      );
    }
    if (code !== 0) throw new Error(unavailableMessage(stderr.trim() || `bwrap exited with ${code}`));
    return bwrap;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function unavailableMessage(detail: string): string {
  return (
    `AGENT_SANDBOX=bubblewrap: bubblewrap could not start a sandbox here (${detail}), so no agent will run. ` +
    "Namespaces are refused by the kernel or the container: on a host, allow unprivileged user namespaces " +
    "(sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu 24.04+ kernel.apparmor_restrict_unprivileged_userns=0); " +
    "in Docker, run the worker with the security options docker-compose.yml sets (the shipped docker/seccomp-bubblewrap.json seccomp profile, " +
    "apparmor=unconfined and systempaths=unconfined; README § Container says why each is needed). " +
    "AGENT_SANDBOX=none runs agents without isolation (not recommended)."
  );
}

function run(command: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("error", (err) => {
      clearTimeout(timer);
      resolve({ code: null, stderr: err.message });
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr: stderr.slice(0, 500) });
    });
  });
}
