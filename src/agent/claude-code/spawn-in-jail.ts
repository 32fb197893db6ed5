import { type ChildProcess, spawn } from "node:child_process";
import type { SpawnOptions as ClaudeSpawnOptions, SpawnedProcess } from "@anthropic-ai/claude-agent-sdk";
import type { Jail } from "../../sandbox/sandbox.js";

/** Where the `claude` binary appears inside the jail (read-only). */
export const CLAUDE_INSIDE = "/opt/claude-code/claude";
/** The loopback port the model gateway is offered on inside the jail. */
export const GATEWAY_PORT_INSIDE = 3190;

export interface JailedSpawn {
  jail: Jail;
  /** The gateway's Unix socket on the host (bubblewrap), bridged to GATEWAY_PORT_INSIDE. */
  gatewaySocket: string | null;
  /** Every process started, so a stop can kill them at once and close() can wait for them. */
  children: Set<ChildProcess>;
  onStderr?: (chunk: string) => void;
}

/**
 * The SDK's `spawnClaudeCodeProcess`: runs `claude` inside the job's jail, with the binary bound
 * read-only and the model gateway bridged onto the jail's loopback. The process gets its own
 * process group, so one kill ends it and everything its Bash tool started.
 */
export function spawnInJail(j: JailedSpawn): (o: ClaudeSpawnOptions) => SpawnedProcess {
  return (o) => {
    const sandboxed = j.jail.kind === "bubblewrap";
    const spec = sandboxed
      ? j.jail.spawnSpec([CLAUDE_INSIDE, ...o.args], {
          files: [{ host: o.command, inside: CLAUDE_INSIDE }],
          sockets: j.gatewaySocket ? [{ host: j.gatewaySocket, port: GATEWAY_PORT_INSIDE }] : [],
        })
      : j.jail.spawnSpec([o.command, ...o.args]);
    // The jail's environment (PATH, HOME, proxy) under the SDK's (built from scratch by us, plus
    // its own CLAUDE_CODE_ENTRYPOINT and version variables).
    const env: Record<string, string> = { ...spec.env };
    for (const [k, v] of Object.entries(o.env)) if (v !== undefined) env[k] = v;
    const child = spawn(spec.command, spec.args, { cwd: o.cwd, env, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    j.children.add(child);
    child.once("exit", () => j.children.delete(child));
    child.once("error", () => j.children.delete(child));
    child.stderr?.setEncoding("utf8").on("data", (s: string) => j.onStderr?.(s));
    // The SDK's forwarded signal fires after its graceful window; a stop kills sooner (killGroup).
    o.signal.addEventListener("abort", () => killGroup(child), { once: true });
    return child as SpawnedProcess;
  };
}

/** Kills a process and its whole group (bwrap and everything in the jail dies with it). */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // ESRCH: already gone.
  }
}

/** Kills every process of a session and waits until each has exited. */
export async function killAll(children: Set<ChildProcess>): Promise<void> {
  await Promise.all(
    [...children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once("exit", () => resolve());
          killGroup(c);
        }),
    ),
  );
}
