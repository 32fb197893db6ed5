import { spawn } from "node:child_process";
import type { Logger } from "../logger.js";

/**
 * New user, PID and mount namespaces with a fresh /proc: the agent's shell and the repository's
 * checks cannot see the worker process, and so cannot read its environment (where the service's
 * own secrets live) through /proc/<pid>/environ, nor signal it.
 */
export const UNSHARE = ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc", "--kill-child"] as const;

/** Decides the command prefix for agent commands: AGENT_SANDBOX=auto probes unshare once. */
export async function resolveSandbox(mode: "auto" | "unshare" | "none", env: Record<string, string>, logger: Logger): Promise<readonly string[] | null> {
  if (mode === "none") {
    logger.warn("AGENT_SANDBOX=none: agent commands run in the worker's namespaces and can see its processes");
    return null;
  }
  const works = await probe(env);
  if (works) return UNSHARE;
  const hint =
    "agent commands could not be isolated with unshare (user namespaces unavailable); they can read the worker's environment. " +
    "Enable unprivileged user namespaces, or run workers as a dedicated user with only the secrets they need.";
  if (mode === "unshare") throw new Error(`AGENT_SANDBOX=unshare: ${hint}`);
  logger.warn(hint);
  return null;
}

function probe(env: Record<string, string>): Promise<boolean> {
  return new Promise((resolve) => {
    const [command, ...args] = [...UNSHARE, "true"] as [string, ...string[]];
    const child = spawn(command, args, { env, stdio: "ignore" });
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("error", () => resolve(false));
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}
