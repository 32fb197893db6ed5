// The service's processes for the workload bench (forked from service-process.ts) and what the
// bench reads about them from outside: /proc/<pid>/stat CPU (their own and their reaped children's:
// git, the sandbox, the checks) and /proc/<pid>/status RSS.
import { type ChildProcess, execFileSync, fork } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import type { ServiceStats } from "./service-process.js";

/** One forked process of the service. */
export interface ServiceProcess {
  role: "server" | "worker";
  pid: number;
  /** The server's listening address (null for a worker). */
  address: string | null;
  /** Its own event-loop delay, CPU and RSS, as it sees them. */
  stats(): Promise<ServiceStats>;
  /** Restarts its event-loop delay histogram (when the load begins). */
  resetLag(): Promise<void>;
  close(): Promise<void>;
}

function ask<T>(child: ChildProcess, message: string, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type?: string } & Record<string, unknown>) => {
      if (m?.type !== type) return;
      child.off("message", onMessage);
      resolve(m as T);
    };
    child.on("message", onMessage);
    child.once("exit", (code) => reject(new Error(`the service process exited (${code}) before answering ${message}`)));
    child.send(message);
  });
}

/** Forks one service process with `env` (BENCH_ROLE set from `role`) and waits until it is ready. */
export async function startServiceProcess(role: "server" | "worker", env: Record<string, string>, output: string[]): Promise<ServiceProcess> {
  const child = fork(new URL("./service-process.ts", import.meta.url), [], {
    env: { ...env, BENCH_ROLE: role },
    execArgv: ["--import", "tsx", ...(process.env.BENCH_CPU_PROF_DIR && role === "worker" ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [])],
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  child.stdout?.on("data", (d: Buffer) => output.push(d.toString()));
  const exited = once(child, "exit");
  const [ready] = (await Promise.race([
    once(child, "message"),
    exited.then(([code]) => Promise.reject(new Error(`the ${role} process exited with ${code} before it was ready; its output: ${output.join("").slice(-2000)}`))),
  ])) as [{ address: string | null }];
  return {
    role,
    pid: child.pid as number,
    address: ready.address,
    stats: async () => (await ask<{ stats: ServiceStats }>(child, "stats", "stats")).stats,
    resetLag: async () => void (await ask(child, "reset", "reset")),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      child.send("close");
      await exited;
      clearTimeout(timer);
    },
  };
}

let ticks: number | undefined;
/** Clock ticks per second of /proc's CPU fields (getconf CLK_TCK; 100 on Linux). */
function clockTicks(): number {
  ticks ??= Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  return ticks;
}

/** CPU of `pid` from /proc/<pid>/stat in ms: its own, and its waited-for children's (git, bwrap, checks). */
export function procCpu(pid: number): { ownMs: number; childrenMs: number } {
  const tick = 1000 / clockTicks();
  const self = statFields(pid);
  let ownMs = ((self.f[11] ?? 0) + (self.f[12] ?? 0)) * tick;
  let childrenMs = ((self.f[13] ?? 0) + (self.f[14] ?? 0)) * tick;
  // A long-lived helper the process started (the git spawner, a Node process) is the service's
  // own work, and the children it reaped are children's work: neither shows in this process's
  // stat until the helper exits.
  for (const d of descendants(pid)) {
    const own = ((d.f[11] ?? 0) + (d.f[12] ?? 0)) * tick;
    // comm is cut at 15 characters: the spawner's title "agent-workforce-spawner" reads "agent-workforce".
    if (d.comm === "node" || d.comm.startsWith("agent-workforce")) ownMs += own;
    else childrenMs += own;
    childrenMs += ((d.f[13] ?? 0) + (d.f[14] ?? 0)) * tick;
  }
  return { ownMs, childrenMs };
}

/** The command name and the stat(5) fields after it (index 0 is the state field). */
function statFields(pid: number): { comm: string; ppid: number; f: number[] } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name may hold spaces: the fields start after its closing parenthesis.
  const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
  // Fields 14-17 of stat(5) (utime, stime, cutime, cstime) are 11-14 after the state field.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  return { comm, ppid: f[1] ?? 0, f };
}

/** The live processes below pid. */
function descendants(pid: number): Array<{ comm: string; f: number[] }> {
  const all: Array<{ pid: number; comm: string; ppid: number; f: number[] }> = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      all.push({ pid: Number(name), ...statFields(Number(name)) });
    } catch {
      // Gone while listing.
    }
  }
  const below = new Set([pid]);
  const out: Array<{ comm: string; f: number[] }> = [];
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (below.has(p.ppid) && !below.has(p.pid)) {
        below.add(p.pid);
        out.push(p);
        grew = true;
      }
    }
  }
  return out;
}

/** Resident set size of `pid` in bytes (VmRSS), or 0 once it is gone. */
export function procRss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * CPU time of the whole machine so far (all CPUs) from /proc/stat, in ticks: busy (this machine's
 * own work), stolen (a VM's CPU taken by its host) and in all.
 */
export function machineCpu(): { busy: number; stolen: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  // user nice system idle iowait irq softirq steal
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const stolen = f[7] ?? 0;
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0) - stolen, stolen, total };
}
