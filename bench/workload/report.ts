/* eslint-disable no-console -- a benchmark prints its results as tables */
// Prints the workload bench's figures as a table, the requests by operation, and each goal of
// issue 16 as PASS or MISS with the figure it was judged on.
import type { WorkloadResult } from "./harness.js";

/** The p-th percentile (nearest rank) of `xs`, NaN when empty. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : "n/a");
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "n/a");
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");
const MB = 1024 * 1024;
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const median = (xs: number[]) => percentile(xs, 50);

/** Per worker: (peak RSS − idle RSS) ÷ peak agents in flight, MB. */
export const rssPerAgentMb = (r: WorkloadResult) => r.rss.map((w) => (w.peakAgents > 0 ? (w.peak - w.idle) / w.peakAgents / MB : Number.NaN));
/** Warm setup ÷ fresh clone, the median over repositories. */
export const setupRatio = (r: WorkloadResult) => median(r.setup.map((s) => s.warmMs / s.cloneMs));

/** Prints the figures and the goals; returns the goals as [goal, met, figure]. */
export function report(r: WorkloadResult): Array<[string, boolean, string]> {
  const n = r.options.issues;
  const cold = r.firstRequestMs.cold;
  const warm = r.firstRequestMs.warm;
  const perAgent = rssPerAgentMb(r);
  const lagP99 = Math.max(...r.lag.map((l) => l.p99));
  const peakAgents = Math.max(...r.rss.map((w) => w.peakAgents));
  const linear = total(r.linear) / n;
  const github = total(r.github) / n;
  const nodeCpu = r.cpuMsPerTask.workers + r.cpuMsPerTask.server;
  const dist = (xs: number[]) => `p50 ${f0(percentile(xs, 50))}, p99 ${f0(percentile(xs, 99))} (n ${xs.length})`;
  console.table([
    { measure: "label → first model request, cold mirror (ms)", value: dist(cold) },
    { measure: "label → first model request, warm mirror (ms)", value: dist(warm) },
    { measure: "label → first model request, warm, one issue alone after the load (ms)", value: dist(r.firstRequestMs.alone) },
    { measure: `label → PR opened − model time (${f1(r.modelCallsPerTask)} calls × ${r.options.turnMs} ms) (ms)`, value: dist(r.serviceLatencyMs) },
    { measure: "worker CPU per task, Node (ms)", value: f0(r.cpuMsPerTask.workers) },
    { measure: "worker's children CPU per task: git, sandbox, checks (ms)", value: f0(r.cpuMsPerTask.workerChildren) },
    { measure: "server CPU per task (ms)", value: f0(r.cpuMsPerTask.server) },
    { measure: "machine during the load: CPUs busy (stolen by the host); the bench's own CPU per task (fakes, model)", value: `${f0(r.machineLoad.busyShare * 100)}% of ${r.machine.split(" ")[0]} (${f0(r.machineLoad.stolenShare * 100)}%); ${f0(r.machineLoad.benchMsPerTask)} ms` },
    { measure: "peak RSS per concurrent agent, per worker (MB)", value: r.rss.map((w, i) => `${f1(perAgent[i] as number)} ((${f0(w.peak / MB)} − ${f0(w.idle / MB)}) ÷ ${w.peakAgents})`).join("; ") },
    { measure: "event-loop lag of each worker under load (ms)", value: r.lag.map((l) => `p99 ${f1(l.p99)}, max ${f1(l.max)}`).join("; ") },
    { measure: "Redis commands per task", value: f1(r.redis.perTask) },
    { measure: "Linear requests per task", value: f1(linear) },
    { measure: "GitHub requests per task", value: f1(github) },
    { measure: "workspace setup, warm (parked tree reused) ÷ fresh clone (median over repos)", value: `${f2(setupRatio(r))} (${r.setup.map((s) => `${s.repo} ${f0(s.warmMs)}/${f0(s.cloneMs)} ms, cold ${f0(s.coldMs)}`).join("; ")})` },
    { measure: "workspace setup, warm writing every file (parking off) ÷ fresh clone", value: `${f2(median(r.setup.map((s) => s.freshMs / s.cloneMs)))} (${r.setup.map((s) => `${s.repo} ${f0(s.freshMs)} ms`).join("; ")})` },
    { measure: "issues with exactly one PR", value: `${r.prs} of ${n}` },
    { measure: "duplicates / losses", value: `${r.duplicates.length} / ${r.losses.length}` },
    { measure: "wall time (s)", value: f1(r.seconds) },
  ]);
  console.log("\nLinear requests by operation (per task)");
  console.table([...r.linear].map(([op, c]) => ({ operation: op, total: c, "per task": f2(c / n) })));
  console.log("GitHub requests by route (per task)");
  console.table([...r.github].map(([route, c]) => ({ route, total: c, "per task": f2(c / n) })));
  console.log("Redis commands (per task, top 12)");
  console.table(r.redis.top.slice(0, 12).map(([cmd, c]) => ({ command: cmd, total: c, "per task": f2(c / n) })));
  for (const d of r.duplicates) console.log(`DUPLICATE ${d}`);
  for (const l of r.losses) console.log(`LOST ${l.identifier}: ${l.state ?? "no task"}${l.error ? ` (${l.error})` : ""}`);
  if (r.unmatchedModelRequests > 0) console.log(`${r.unmatchedModelRequests} model requests named no issue of the run`);
  const goals: Array<[string, boolean, string]> = [
    ["Linear requests ≤ 40 per implement task", linear <= 40, f1(linear)],
    ["GitHub requests ≤ 25 per implement task", github <= 25, f1(github)],
    ["label → first model request p50 ≤ 500 ms warm", percentile(warm, 50) <= 500, `${f0(percentile(warm, 50))} ms under the load (one issue alone: ${f0(percentile(r.firstRequestMs.alone, 50))} ms)`],
    ["workspace setup ≤ 0.1× a fresh clone", setupRatio(r) <= 0.1, `${f2(setupRatio(r))}×`],
    [`${r.options.concurrency} concurrent agents in one worker`, peakAgents >= r.options.concurrency, `peak ${peakAgents} in one worker`],
    ["event-loop lag p99 ≤ 100 ms", lagP99 <= 100, `${f1(lagP99)} ms (worst worker)`],
    ["≤ 50 MB RSS per agent", Math.max(...perAgent) <= 50, `${f1(Math.max(...perAgent))} MB (worst worker)`],
    ["service CPU ≤ 200 ms per task", nodeCpu <= 200, `${f0(nodeCpu)} ms in the server and worker processes; their git, sandbox and check children add ${f0(r.cpuMsPerTask.workerChildren)} ms`],
    ["duplicates and losses 0", r.duplicates.length === 0 && r.losses.length === 0, `${r.duplicates.length} duplicates, ${r.losses.length} losses`],
  ];
  console.log("");
  for (const [goal, met, why] of goals) console.log(`${met ? "PASS" : "MISS"} ${goal}: ${why}`);
  return goals;
}
