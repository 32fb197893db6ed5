import { spawnGroup } from "../process/spawner.js";
import type { Jail } from "../sandbox/sandbox.js";

export interface CheckResult {
  command: string;
  passed: boolean;
  exitCode: number | null;
  timedOut: boolean;
  /** Killed because the run was stopped or the worker shuts down: says nothing about the code. */
  interrupted: boolean;
  /** The tail of interleaved stdout and stderr: failures are reported at the end. */
  output: string;
  durationMs: number;
}

/**
 * How long a running command or check may still take once the worker drains. The drain lets the
 * current turn finish, and a quick command belongs to it (its result is kept); a long one
 * (timeouts are minutes) would outlast a container's stop grace period and end in a SIGKILL
 * with nothing handed over, so it is killed.
 */
export const DRAIN_GRACE_MS = 3_000;

/**
 * The signal for one command or check: aborted at once by `cancel`, and `graceMs` after `drain`
 * (counted from now when the worker already drains). `dispose` unhooks it from both, which live
 * longer than the command.
 */
export function commandStop(
  cancel: AbortSignal,
  drain: AbortSignal | undefined,
  graceMs = DRAIN_GRACE_MS,
): { signal: AbortSignal; dispose(): void } {
  const ctrl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onCancel = () => ctrl.abort(cancel.reason);
  const onDrain = () => {
    timer = setTimeout(() => ctrl.abort(drain?.reason), graceMs);
  };
  if (cancel.aborted) onCancel();
  else cancel.addEventListener("abort", onCancel, { once: true });
  if (drain?.aborted) onDrain();
  else drain?.addEventListener("abort", onDrain, { once: true });
  return {
    signal: ctrl.signal,
    dispose() {
      clearTimeout(timer);
      cancel.removeEventListener("abort", onCancel);
      drain?.removeEventListener("abort", onDrain);
    },
  };
}

/**
 * Runs the repository's check command in the worktree with the scrubbed environment, a timeout
 * that kills the whole process group, and bounded memory for its output. `signal` kills the
 * group too (see `commandStop`): a check may run for many minutes.
 */
export async function runChecks(p: {
  cwd: string;
  command: string;
  env: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  maxOutputChars?: number;
  /** The job's sandbox: checks run model-written code too. Without one, `env` is the whole environment. */
  jail?: Jail;
}): Promise<CheckResult> {
  const max = p.maxOutputChars ?? 12_000;
  const started = Date.now();
  // An abort event never fires again for a signal that is already aborted, so the listener
  // below would never kill the check and it would run to its timeout.
  if (p.signal?.aborted) {
    return { command: p.command, passed: false, exitCode: null, timedOut: false, interrupted: true, output: "", durationMs: 0 };
  }
  const argv = ["/bin/bash", "-c", p.command];
  const spec = p.jail ? p.jail.spawnSpec(argv) : { command: "bash", args: argv.slice(1), env: p.env };
  // In a process group of its own (one kill ends all it started), from the spawner helper.
  const child = spawnGroup(spec.command, spec.args, { cwd: p.cwd, env: spec.env, stdin: false });
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    if (output.length > max * 2) output = output.slice(-max);
  };
  child.on("output", keep);
  let timedOut = false;
  let interrupted = false;
  const killGroup = () => child.killGroup("SIGKILL");
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, p.timeoutMs);
  const onAbort = () => {
    interrupted = true;
    killGroup();
  };
  p.signal?.addEventListener("abort", onAbort, { once: true });
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once("error", (err: Error) => {
      output += `\n${err.message}`;
      resolve(null);
    });
    child.once("close", (code: number | null) => resolve(code));
  });
  clearTimeout(timer);
  p.signal?.removeEventListener("abort", onAbort);
  const tail = output.length > max ? `[... earlier output omitted ...]\n${output.slice(-max)}` : output;
  return {
    command: p.command,
    passed: exitCode === 0 && !timedOut && !interrupted,
    exitCode,
    timedOut,
    interrupted,
    output: timedOut ? `${tail}\n[timed out after ${Math.round(p.timeoutMs / 1000)} s and was killed]` : tail,
    durationMs: Date.now() - started,
  };
}
