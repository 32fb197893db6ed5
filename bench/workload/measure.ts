// Counters the workload bench reads before and after the load (Redis commands, CPU of the service's
// processes), and the side-by-side timing of a warm workspace setup against a fresh `git clone`.
import { execFile } from "node:child_process";
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { Workspace, type Worktree } from "../../src/workspace/index.js";
import { PARK_SETTLE_MS } from "../../src/workspace/parked.js";
import { procCpu } from "./processes.js";
import { OWNER, type Stack } from "./stack.js";

const exec = promisify(execFile);

/** Calls per Redis command from INFO commandstats. */
export async function commandStats(url: string): Promise<Map<string, number>> {
  // No ready check: the bench's own connection sends nothing but this one INFO.
  const redis = new Redis(url, { enableReadyCheck: false, maxRetriesPerRequest: 1 });
  try {
    const text = await redis.info("commandstats");
    const out = new Map<string, number>();
    for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1] as string, Number(m[2]));
    return out;
  } finally {
    redis.disconnect();
  }
}

/** CPU ms of the server and of each worker: their own (Node) and their reaped children's (git, sandbox, checks). */
export function cpuSnapshot(stack: Stack): { server: number; workers: number[]; workerChildren: number[] } {
  const s = procCpu(stack.server.pid);
  const w = stack.workers.map((p) => procCpu(p.pid));
  return { server: s.ownMs + s.childrenMs, workers: w.map((c) => c.ownMs), workerChildren: w.map((c) => c.childrenMs) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Setup of a warm workspace (mirror fetch + worktree, what a repository's second and later jobs pay) vs a fresh clone. */
export interface SetupTiming {
  repo: string;
  coldMs: number;
  /** a warm setup taking the parked tree of the job before */
  warmMs: number;
  /** a warm setup writing every file (parking off) */
  freshMs: number;
  cloneMs: number;
}

/**
 * What the job before leaves in its tree, as the scripted agent does: a new file, an edit, a
 * commit, after a job's time. A job lasts seconds at least, so the files its checkout wrote are
 * older than the index its commit writes; a tree removed the instant it was made would instead
 * leave every entry "racily clean" (written in the index's own second), which git must re-read
 * on the next checkout, a case no real job produces.
 */
async function actAsJob(wt: Worktree): Promise<void> {
  await sleep(1_100);
  await writeFile(path.join(wt.path, "src", "bench-note.js"), "export const note = 1;\n");
  await appendFile(path.join(wt.path, "greet.txt"), "and welcome\n");
  await wt.commitAll({ message: "The job before", author: { name: "Bench", email: "bench@example.com" } });
}

/**
 * Times, on each repository, `Workspace.createWorktree` (the service's own code, on a data
 * directory of its own: the first call clones the mirror, later ones are warm) against `git
 * clone` of the same remote, alternating `rounds` times; medians. Warm setups are timed twice:
 * taking the tree the last job parked (once it settled, as a job arriving seconds later does) and
 * with parking off (every file written).
 */
export async function workspaceVsClone(stack: Stack, rounds: number): Promise<SetupTiming[]> {
  const root = await mkdtemp(path.join(tmpdir(), "awf-workload-ws-"));
  const baseEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8", HOME: root };
  const reusing = new Workspace({ dataDir: path.join(root, "data"), baseEnv });
  const fresh = new Workspace({ dataDir: path.join(root, "fresh"), baseEnv, maxParked: 0 });
  const out: SetupTiming[] = [];
  try {
    for (const r of stack.repos) {
      let parkedAt = 0;
      const setup = async (workspace: Workspace, n: number) => {
        const started = performance.now();
        const wt = await workspace.createWorktree({ repo: { owner: OWNER, name: r.name }, cloneUrl: r.url, key: `bench-${r.name}-${n}`, branch: `bench/setup-${n}`, baseBranch: "main" });
        const ms = performance.now() - started;
        if (workspace === reusing) await actAsJob(wt);
        await wt.remove();
        if (workspace === reusing) parkedAt = performance.now();
        return ms;
      };
      const coldMs = await setup(reusing, 0);
      await setup(fresh, 0);
      const warm: number[] = [];
      const warmFresh: number[] = [];
      const clone: number[] = [];
      for (let i = 1; i <= rounds; i++) {
        warmFresh.push(await setup(fresh, i));
        const dir = path.join(root, `clone-${r.name}-${i}`);
        const started = performance.now();
        await exec("git", ["clone", "--quiet", r.url, dir]);
        clone.push(performance.now() - started);
        await rm(dir, { recursive: true, force: true });
        await sleep(Math.max(0, parkedAt + PARK_SETTLE_MS + 20 - performance.now()));
        warm.push(await setup(reusing, i));
      }
      out.push({ repo: r.name, coldMs, warmMs: median(warm), freshMs: median(warmFresh), cloneMs: median(clone) });
    }
    return out;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
