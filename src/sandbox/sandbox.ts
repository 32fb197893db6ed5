import { existsSync, lstatSync, realpathSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Logger } from "../logger.js";
import { createAllowlist } from "./allowlist.js";
import { bridgePrologue, bridgeSocketInside, bwrapArgs, type JailExtras, PROXY_PORT_INSIDE, PROXY_SOCKET_INSIDE, proxyEnv, type SandboxScope } from "./bwrap-args.js";
import { type EgressDecision, EgressProxy } from "./egress-proxy.js";
import { probeBubblewrap } from "./probe.js";

export type { JailExtras, SandboxScope } from "./bwrap-args.js";

/** How to start one command: the program, its arguments and its complete environment. */
export interface SpawnSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** One job's sandbox: turns an argv into the command that runs it inside the boundary. */
export interface Jail {
  readonly kind: Sandbox["kind"];
  /** The job's HOME and temporary directory on the host (an agent runtime keeps its state there). */
  readonly home: string;
  readonly tmp: string;
  /** `extras` (a runtime's binary, a bridged host socket) apply to bubblewrap only: `none` runs argv as is. */
  spawnSpec(argv: readonly string[], extras?: JailExtras): SpawnSpec;
}

/** The process's sandbox: everything that runs model-chosen code goes through a jail of it. */
export interface Sandbox {
  readonly kind: "bubblewrap" | "none";
  /** A jail for one job's commands, with `env` (never secrets) as their whole environment. */
  jail(scope: SandboxScope, env: Record<string, string>): Jail;
  close(): Promise<void>;
}

export interface SandboxSettings {
  mode: "bubblewrap" | "none";
  /** Hosts agent commands may reach through the proxy; empty: no network. */
  allowedDomains: readonly string[];
  /** PATH of agent commands: its directories outside /usr are mounted read-only. */
  path: string;
  /** Directories that must never be visible inside, even when PATH names them (DATA_DIR, the service's own). */
  hidden: readonly string[];
  logger: Logger;
  onEgress?: (d: EgressDecision) => void;
}

/** No isolation at all: only for AGENT_SANDBOX=none. */
export const unsandboxed: Sandbox = {
  kind: "none",
  jail(scope, env) {
    const full = { ...env, HOME: scope.home, TMPDIR: scope.tmp };
    return {
      kind: "none",
      home: scope.home,
      tmp: scope.tmp,
      spawnSpec: (argv) => ({ command: argv[0] as string, args: argv.slice(1), env: full }),
    };
  },
  close: async () => undefined,
};

/**
 * Starts the sandbox, failing closed: with AGENT_SANDBOX=bubblewrap, a missing bwrap or socat or
 * a kernel that refuses namespaces throws an error saying how to fix it, and no agent runs.
 */
export async function startSandbox(s: SandboxSettings): Promise<Sandbox> {
  if (s.mode === "none") {
    s.logger.warn("AGENT_SANDBOX=none: agent commands and checks run without isolation; they can read this machine's files and reach its network");
    return unsandboxed;
  }
  const network = s.allowedDomains.length > 0;
  const readOnly = pathDirs(s.path, s.hidden);
  const bwrap = await probeBubblewrap({ needSocat: network, path: s.path, readOnly });
  let proxy: EgressProxy | null = null;
  let runDir: string | null = null;
  if (network) {
    // A short path: Unix socket paths are limited to 108 bytes.
    runDir = await mkdtemp(path.join(os.tmpdir(), "awf-egress-"));
    proxy = await EgressProxy.start({
      socketPath: path.join(runDir, "egress.sock"),
      allowlist: createAllowlist(s.allowedDomains),
      logger: s.logger.child({ component: "egress" }),
      onDecision: s.onEgress,
    });
  }
  const socket = runDir ? path.join(runDir, "egress.sock") : null;
  s.logger.info({ bwrap, allowedDomains: s.allowedDomains }, network ? "agent sandbox ready: bubblewrap, network through the allowlisting proxy" : "agent sandbox ready: bubblewrap, no network");
  return {
    kind: "bubblewrap",
    jail(scope, env) {
      const full = { ...env, HOME: scope.home, TMPDIR: "/tmp", ...(network ? proxyEnv() : {}) };
      return {
        kind: "bubblewrap",
        home: scope.home,
        tmp: scope.tmp,
        spawnSpec(argv, extras) {
          assertPlainDirectories(scope);
          const args = bwrapArgs({ scope, readOnly, proxySocket: socket, extras });
          const bridges = [
            ...(network ? [{ socket: PROXY_SOCKET_INSIDE, port: PROXY_PORT_INSIDE }] : []),
            ...(extras?.sockets ?? []).map((b) => ({ socket: bridgeSocketInside(b.port), port: b.port })),
          ];
          const inner = bridges.length ? ["/bin/bash", "-c", bridgePrologue(bridges), "agent-sandbox", ...argv] : [...argv];
          return { command: bwrap, args: [...args, "--", ...inner], env: full };
        },
      };
    },
    async close() {
      await proxy?.close();
      if (runDir) await rm(runDir, { recursive: true, force: true });
    },
  };
}

/**
 * PATH directories that need a mount of their own (outside /usr), minus hidden trees, compared
 * and mounted by their real paths: a PATH entry that is a symlink into DATA_DIR must not mount it.
 */
export function pathDirs(pathVar: string, hidden: readonly string[]): string[] {
  const inside = (dir: string, root: string) => dir === root || dir.startsWith(`${root}/`);
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : null);
  const hiddenReal = hidden.map((h) => real(path.resolve(h)) ?? path.resolve(h));
  return [
    ...new Set(
      pathVar
        .split(":")
        .filter((d) => path.isAbsolute(d))
        .map((d) => real(d))
        .filter((d): d is string => d !== null)
        .filter((d) => !["/usr", "/bin", "/sbin", "/lib", "/lib64"].some((sys) => inside(d, sys)))
        // Neither inside a hidden tree nor above one, which would mount the hidden tree with it.
        .filter((d) => !hiddenReal.some((h) => inside(d, h) || inside(h, d))),
    ),
  ];
}

/**
 * bwrap resolves the scope's paths again at every start, so a directory the agent could swap for
 * a symlink would mount whatever it points at: refuse to start unless each is a real directory.
 * (Their parents are never inside the sandbox, so only the last component can be swapped.)
 */
function assertPlainDirectories(scope: SandboxScope): void {
  for (const dir of [scope.worktree, scope.home, scope.tmp]) {
    const stat = lstatSync(dir, { throwIfNoEntry: false });
    if (!stat?.isDirectory()) {
      throw new Error(`refusing to start a sandbox: ${dir} is not a plain directory (it may have been replaced by a symlink)`);
    }
  }
}
