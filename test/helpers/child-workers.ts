import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";

/** One worker process started from test/helpers/worker-process.ts. */
export interface ChildWorker {
  pid: number;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/** Worker processes started from test/helpers/worker-process.ts. */
export interface ChildWorkers {
  /** What the children wrote to stdout (their logs when LOG_LEVEL is not silent). */
  output: string[];
  workers: ChildWorker[];
  pids: number[];
  /** Starts one more worker process and waits until it is ready. */
  add(): Promise<ChildWorker>;
  close(): Promise<void>;
}

/** Forks `n` worker processes with `env` and waits until each is ready. */
export async function startChildWorkers(n: number, env: Record<string, string>): Promise<ChildWorkers> {
  const children: ChildProcess[] = [];
  const output: string[] = [];
  const workers: ChildWorker[] = [];
  const add = async (): Promise<ChildWorker> => {
    const child = fork(new URL("./worker-process.ts", import.meta.url), [], {
      env: { LOG_LEVEL: "silent", ...env },
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    });
    child.stdout?.on("data", (d: Buffer) => output.push(d.toString()));
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await Promise.race([once(child, "message"), exited.then(() => Promise.reject(new Error("worker exited before it was ready")))]);
    const worker = { pid: child.pid as number, exited, kill: (signal: NodeJS.Signals) => child.kill(signal) };
    workers.push(worker);
    return worker;
  };
  for (let i = 0; i < n; i++) await add();
  return {
    output,
    workers,
    get pids() {
      return workers.map((w) => w.pid);
    },
    add,
    async close() {
      await Promise.all(
        children.map(async (c) => {
          if (c.exitCode !== null || c.signalCode !== null) return;
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
