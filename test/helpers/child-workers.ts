import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";

/** Worker processes started from test/helpers/worker-process.ts. */
export interface ChildWorkers {
  /** What the children wrote to stdout (their logs when LOG_LEVEL is not silent). */
  output: string[];
  pids: number[];
  close(): Promise<void>;
}

/** Forks `n` worker processes with `env` and waits until each is ready. */
export async function startChildWorkers(n: number, env: Record<string, string>): Promise<ChildWorkers> {
  const children: ChildProcess[] = [];
  const output: string[] = [];
  for (let i = 0; i < n; i++) {
    const child = fork(new URL("./worker-process.ts", import.meta.url), [], {
      env: { LOG_LEVEL: "silent", ...env },
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    });
    child.stdout?.on("data", (d: Buffer) => output.push(d.toString()));
    children.push(child);
  }
  await Promise.all(children.map((c) => once(c, "message")));
  return {
    output,
    pids: children.map((c) => c.pid as number),
    async close() {
      await Promise.all(
        children.map(async (c) => {
          if (c.exitCode !== null) return;
          const exited = once(c, "exit");
          c.send("close");
          const timer = setTimeout(() => c.kill("SIGKILL"), 5_000);
          await exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}
