import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";

/** Worker processes started from test/helpers/worker-process.ts. */
export interface ChildWorkers {
  close(): Promise<void>;
}

/** Forks `n` worker processes with `env` and waits until each is ready. */
export async function startChildWorkers(n: number, env: Record<string, string>): Promise<ChildWorkers> {
  const children: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const child = fork(new URL("./worker-process.ts", import.meta.url), [], {
      env: { ...env, LOG_LEVEL: "silent" },
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    children.push(child);
  }
  await Promise.all(children.map((c) => once(c, "message")));
  return {
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
