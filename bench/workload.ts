/* eslint-disable no-console -- a benchmark prints its results as tables */
// npm run bench:workload [-- --issues N --turn-ms N --concurrency N --workers N --gap-ms N
// --repo-files N --commits N --setup-rounds N --timeout-s N --log-level L --log-file F --cpu-prof]: what a task
// costs the service at fleet scale. The real service (one server and `workers` worker processes,
// as a user deploys it) against the loopback fakes and a private redis-server, N labelled issues
// over 4 repositories, a scripted model answering each of an agent's 8 turns after `turn-ms`.
// Prints latency, CPU, memory, event-loop lag, Redis commands and Linear/GitHub requests per task,
// warm workspace setup against a fresh clone, duplicates and losses, and each goal as PASS or MISS.
// --cpu-prof writes each worker's CPU profile (node --cpu-prof) into the directory it prints.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { runWorkload } from "./workload/harness.js";
import { TURNS } from "./workload/model.js";
import { report } from "./workload/report.js";

const { values } = parseArgs({
  options: {
    issues: { type: "string", default: "200" },
    "turn-ms": { type: "string", default: "300" },
    concurrency: { type: "string", default: "50" },
    workers: { type: "string", default: "2" },
    /** Least time between two labels; default: one task's model time ÷ the slots, so arrivals match capacity. */
    "gap-ms": { type: "string" },
    "repo-files": { type: "string", default: "1000" },
    commits: { type: "string", default: "20" },
    "setup-rounds": { type: "string", default: "5" },
    "timeout-s": { type: "string", default: "1200" },
    "log-level": { type: "string", default: "warn" },
    "log-file": { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
  },
});
const workers = Number(values.workers);
const concurrency = Number(values.concurrency);
const turnMs = Number(values["turn-ms"]);
const gapMs = values["gap-ms"] !== undefined ? Number(values["gap-ms"]) : Math.round((TURNS * turnMs) / (workers * concurrency));
if (values["cpu-prof"]) {
  process.env.BENCH_CPU_PROF_DIR = await mkdtemp(path.join(tmpdir(), "awf-workload-prof-"));
  console.log(`worker CPU profiles go to ${process.env.BENCH_CPU_PROF_DIR}`);
}
const options = {
  issues: Number(values.issues),
  workers,
  concurrency,
  turnMs,
  gapMs,
  repoFiles: Number(values["repo-files"]),
  commits: Number(values.commits),
  setupRounds: Number(values["setup-rounds"]),
  timeoutMs: Number(values["timeout-s"]) * 1000,
  logLevel: values["log-level"],
  logFile: values["log-file"],
};
console.log(
  `workload: ${options.issues} issues over 4 repositories (${options.repoFiles} files in ${options.commits} commits each), 1 server + ${workers} worker processes, AGENT_CONCURRENCY ${concurrency}, ${TURNS} agent turns of ${turnMs} ms each, a label at most every ${gapMs} ms with at most ${workers * concurrency} in flight; sandbox bubblewrap`,
);
const result = await runWorkload({ ...options, onProgress: (line) => console.log(`  ${line}`) });
console.log(`machine: ${result.machine}`);
report(result);
process.exit(0);
