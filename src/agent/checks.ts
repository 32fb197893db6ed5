import { spawn } from "node:child_process";

export interface CheckResult {
  command: string;
  passed: boolean;
  exitCode: number | null;
  timedOut: boolean;
  /** The tail of interleaved stdout and stderr: failures are reported at the end. */
  output: string;
  durationMs: number;
}

/**
 * Runs the repository's check command in the worktree with the scrubbed environment, a timeout
 * that kills the whole process group, and bounded memory for its output.
 */
export async function runChecks(p: {
  cwd: string;
  command: string;
  env: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  maxOutputChars?: number;
  sandbox?: readonly string[];
}): Promise<CheckResult> {
  const max = p.maxOutputChars ?? 12_000;
  const started = Date.now();
  const [command, ...args] = [...(p.sandbox ?? []), "bash", "-c", p.command] as unknown as [string, ...string[]];
  const child = spawn(command, args, {
    cwd: p.cwd,
    env: p.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    if (output.length > max * 2) output = output.slice(-max);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let timedOut = false;
  const killGroup = () => {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, p.timeoutMs);
  p.signal?.addEventListener("abort", killGroup, { once: true });
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once("error", (err) => {
      output += `\n${err.message}`;
      resolve(null);
    });
    child.once("close", (code) => resolve(code));
  });
  clearTimeout(timer);
  p.signal?.removeEventListener("abort", killGroup);
  const tail = output.length > max ? `[... earlier output omitted ...]\n${output.slice(-max)}` : output;
  return {
    command: p.command,
    passed: exitCode === 0 && !timedOut,
    exitCode,
    timedOut,
    output: timedOut ? `${tail}\n[timed out after ${Math.round(p.timeoutMs / 1000)} s and was killed]` : tail,
    durationMs: Date.now() - started,
  };
}
