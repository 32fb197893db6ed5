// The workload harness: starts the stack, drives the load, reads every counter, and returns the
// figures (report.ts prints them). Used by `npm run bench:workload` and by its correctness test.
import { writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { drive, driveAlone, type Labelled, pullsOf, settle } from "./drive.js";
import { commandStats, cpuSnapshot, type SetupTiming, workspaceVsClone } from "./measure.js";
import { ScriptedModel } from "./model.js";
import { machineCpu, procRss } from "./processes.js";
import type { ServiceStats } from "./service-process.js";
import { type Stack, startStack } from "./stack.js";

export interface WorkloadOptions {
  issues: number;
  workers: number;
  concurrency: number;
  turnMs: number;
  gapMs: number;
  repoFiles: number;
  commits: number;
  setupRounds: number;
  timeoutMs: number;
  logLevel: string;
  /** where the service processes' logs go at the end, when given */
  logFile?: string;
  onProgress?: (line: string) => void;
}

export interface WorkloadResult {
  options: Omit<WorkloadOptions, "onProgress">;
  machine: string;
  seconds: number;
  /** Issues with exactly one PR, issues with more than one, issues with none (identifier, state, error). */
  prs: number;
  duplicates: string[];
  losses: Array<{ identifier: string; state: string | null; error: string | null }>;
  unmatchedModelRequests: number;
  /** alone: one issue per repository labelled after the load, with nothing else running */
  firstRequestMs: { cold: number[]; warm: number[]; alone: number[] };
  /** Label → PR opened minus the agent's model calls × turnMs, per issue. */
  serviceLatencyMs: number[];
  modelCallsPerTask: number;
  cpuMsPerTask: { workers: number; workerChildren: number; server: number };
  /** What else the machine did during the load: its CPUs' busy share, and the bench's own CPU (fakes, model, driver) per task. */
  machineLoad: { busyShare: number; stolenShare: number; benchMsPerTask: number };
  rss: Array<{ idle: number; peak: number; peakAgents: number }>;
  lag: ServiceStats["lag"][];
  redis: { perTask: number; top: Array<[string, number]> };
  linear: Map<string, number>;
  github: Map<string, number>;
  setup: SetupTiming[];
}

const countBy = (names: string[]) => {
  const m = new Map<string, number>();
  for (const n of names) m.set(n, (m.get(n) ?? 0) + 1);
  return new Map([...m].sort((a, b) => b[1] - a[1]));
};

/** METHOD and path, with repository names, numbers and shas folded so one route adds up over repositories. */
const routeOf = (r: { method: string; path: string }) =>
  `${r.method} ${r.path.replace(/^\/repos\/[^/]+\/[^/]+/, "/repos/{o}/{r}").replace(/\/[0-9a-f]{40}\b/g, "/{sha}").replace(/\/\d+\b/g, "/{n}")}`;

function outcomes(stack: Stack, labelled: Labelled[]): Pick<WorkloadResult, "prs" | "duplicates" | "losses"> {
  const duplicates: string[] = [];
  const losses: WorkloadResult["losses"] = [];
  let prs = 0;
  for (const l of labelled) {
    const n = pullsOf(stack, l).length;
    if (n === 1) prs++;
    else if (n > 1) duplicates.push(`${l.issue.identifier} (${n} PRs)`);
    else losses.push({ identifier: l.issue.identifier, state: l.state, error: l.error });
  }
  // A PR on a branch no issue of the run names is a duplicate too (work done under another name).
  const heads = new Set(labelled.flatMap((l) => pullsOf(stack, l).map((p) => p.id)));
  for (const p of stack.github.state.pulls) if (!heads.has(p.id)) duplicates.push(`PR #${p.number} on ${p.headRef}`);
  return { prs, duplicates, losses };
}

/** Runs the whole workload once and returns its figures; always stops every process it started. */
export async function runWorkload(o: WorkloadOptions): Promise<WorkloadResult> {
  const { onProgress, ...options } = o;
  const model = new ScriptedModel(o.turnMs);
  const stack = await startStack({ workers: o.workers, concurrency: o.concurrency, repoFiles: o.repoFiles, commits: o.commits, logLevel: o.logLevel }, model);
  try {
    const idle = stack.workers.map((w) => procRss(w.pid));
    const redisBefore = await commandStats(stack.redis.url);
    const cpuBefore = cpuSnapshot(stack);
    const machineBefore = machineCpu();
    const benchBefore = process.cpuUsage();
    const started = Date.now();
    const { labelled, samples } = await drive(stack, model, { issues: o.issues, slots: o.workers * o.concurrency, gapMs: o.gapMs, timeoutMs: o.timeoutMs, onProgress });
    const lag = await Promise.all(stack.workers.map((w) => w.stats().then((s) => s.lag)));
    await settle(stack, 2000, 60_000);
    const seconds = (Date.now() - started) / 1000;
    const cpuAfter = cpuSnapshot(stack);
    const machineAfter = machineCpu();
    const benchCpu = process.cpuUsage(benchBefore);
    const redisAfter = await commandStats(stack.redis.url);
    // Read before the lone issues add their own requests and pull requests.
    const ended = outcomes(stack, labelled);
    const linear = countBy(stack.linear.requests.map((r) => r.operationName ?? "(unnamed)"));
    const github = countBy(stack.github.requests.map(routeOf));
    onProgress?.("load done; one issue per repository alone, then workspace setup against a fresh clone");
    const alone = await driveAlone(stack, model, o.timeoutMs);
    const setup = await workspaceVsClone(stack, o.setupRounds);
    // The bench's own commands: the INFO of the first snapshot and the task watcher's SUBSCRIBE.
    const mine = new Map([["info", 1], ["subscribe", 1]]);
    const redisDiff = [...redisAfter].map(([cmd, n]) => [cmd, n - (redisBefore.get(cmd) ?? 0) - (mine.get(cmd) ?? 0)] as [string, number]).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    const n = labelled.length;
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const agents = labelled.map((l) => ({ l, calls: model.agents.get(l.issue.identifier) }));
    const withPr = agents.filter(({ l }) => pullsOf(stack, l).length > 0);
    return {
      options,
      machine: `${cpus().length} × ${cpus()[0]?.model ?? "CPU"}; load average ${loadavg().map((x) => x.toFixed(2)).join(", ")} at the end`,
      seconds,
      ...ended,
      unmatchedModelRequests: model.unmatched,
      firstRequestMs: {
        cold: agents.filter(({ l, calls }) => l.cold && calls).map(({ l, calls }) => (calls?.firstAt ?? 0) - l.labelledAt),
        warm: agents.filter(({ l, calls }) => !l.cold && calls).map(({ l, calls }) => (calls?.firstAt ?? 0) - l.labelledAt),
        alone,
      },
      serviceLatencyMs: withPr.map(({ l, calls }) => Date.parse(pullsOf(stack, l)[0]?.createdAt ?? "") - l.labelledAt - (calls?.calls ?? 0) * o.turnMs),
      modelCallsPerTask: sum(agents.map(({ calls }) => calls?.calls ?? 0)) / n,
      cpuMsPerTask: {
        workers: sum(cpuAfter.workers.map((c, i) => c - (cpuBefore.workers[i] ?? 0))) / n,
        workerChildren: sum(cpuAfter.workerChildren.map((c, i) => c - (cpuBefore.workerChildren[i] ?? 0))) / n,
        server: (cpuAfter.server - cpuBefore.server) / n,
      },
      machineLoad: {
        busyShare: (machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total),
        stolenShare: (machineAfter.stolen - machineBefore.stolen) / Math.max(1, machineAfter.total - machineBefore.total),
        benchMsPerTask: (benchCpu.user + benchCpu.system) / 1000 / n,
      },
      rss: stack.workers.map((_, i) => ({
        idle: idle[i] ?? 0,
        peak: Math.max(...samples.map((s) => s.rss[i] ?? 0)),
        peakAgents: Math.max(...samples.map((s) => s.agents[i] ?? 0)),
      })),
      lag,
      redis: { perTask: sum(redisDiff.map(([, c]) => c)) / n, top: redisDiff },
      linear,
      github,
      setup,
    };
  } finally {
    if (o.logFile) await writeFile(o.logFile, stack.output.join(""));
    await stack.close();
  }
}
