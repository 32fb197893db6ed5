/* eslint-disable no-console -- a benchmark prints its results as tables */
// npm run bench:split [-- --turn-ms N --real-turn-s N --reads N --read-chars N --only split|single
// --trace]: the cost of state transfer. One
// issue split into 4 sub-issues (s1, s2 independent; s3, s4 depending on both) against the same
// work done as one task, each through the whole service (real server, queues, workers, Redis and
// git; loopback fakes; a scripted model that waits `turn-ms` per call). A PR is merged the moment
// it opens, so no human wait is counted. Prints input tokens, state-transfer tokens per child,
// wall time and Linear requests side by side, and each goal of issue 14 as PASS or MISS.
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import type { Task } from "../src/tasks/task.js";
import { prClosed } from "../test/fixtures/github-events.js";
import { promptTokens } from "../test/helpers/long-task.js";
import { OWNER, REPO, startWorld, type World } from "../test/helpers/world.js";
import { ISSUE, PARTS, partFile, repoFiles, scriptedModel, turnsOf } from "./split-work.js";

const { values } = parseArgs({
  options: {
    "turn-ms": { type: "string", default: "1000" },
    /** What one model call takes for real: time runs `real-turn-s` ÷ `turn-ms` times faster, Linear's request budget too. */
    "real-turn-s": { type: "string", default: "10" },
    /** Modules each part reads (a sub-issue's turns are reads + 2): 16 makes an 18-turn sub-issue, as real ones run; 4 the quick shape. */
    reads: { type: "string", default: "16" },
    "read-chars": { type: "string", default: "3000" },
    "timeout-s": { type: "string", default: "600" },
    /** Runs one side only (while developing): split or single. */
    only: { type: "string" },
    /** Prints every task's state and step as they change (to see where the time goes). */
    trace: { type: "boolean", default: false },
    /** The service's log level (with --trace its log is written to the temp directory). */
    "log-level": { type: "string", default: "warn" },
  },
});
const TURN_MS = Number(values["turn-ms"]);
const READS = Number(values.reads);
const READ_CHARS = Number(values["read-chars"]);
const TIMEOUT_MS = Number(values["timeout-s"]) * 1000;
// The bench compresses time: a model call of REAL_TURN_S seconds takes TURN_MS. Linear's request
// budget (an API key's 5,000 an hour, a burst of 50) is a rate, so it is compressed the same way;
// unscaled, the budget's pace alone (1.4 requests a second) would decide the split's wall time.
const SPEEDUP = Math.max(1, (Number(values["real-turn-s"]) * 1000) / TURN_MS);
const LINEAR_PER_HOUR = Math.round(5000 * SPEEDUP);

interface Run {
  mode: "split" | "single";
  inputTokens: number;
  modelCalls: number;
  /** Model calls by kind (triage, plan, agent turn). */
  callKinds: string;
  seconds: number;
  linearRequests: number;
  /** Linear requests by operation name. */
  linearOps: Map<string, number>;
  /** Per child: state-transfer tokens (split only). */
  children: Array<{ key: string; identifier: string; state: string; transfer: number | null; inputTokens: number; turns: number; attempts: number; branch: string | null; triagedWaiting: boolean }>;
  outcome: string;
}

/** Merges every PR the moment its task reports it open, through the GitHub fake and the signed webhook. */
function mergeOnOpen(world: World): { stop(): void } {
  const done = new Set<number>();
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      for (const t of await world.deps.tasks.list(500)) {
        if (t.state !== "pr-open" || !t.prNumber || done.has(t.prNumber)) continue;
        done.add(t.prNumber);
        world.github.mergePull(OWNER, REPO, t.prNumber);
        await world.sendGitHub("pull_request", prClosed({ owner: OWNER, repo: REPO, pr: t.prNumber, branch: t.branch ?? "", merged: true, by: { login: "grace" } }));
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  void loop().catch((err: Error) => console.error(`merging failed: ${err.message}`));
  return { stop: () => void (stopped = true) };
}

/** One issue through the service in `mode`, until the parent is done (split) or the task merged (single). */
async function runMode(mode: "split" | "single"): Promise<Run> {
  const calls = new Map<string, number>();
  const world = await startWorld({
    files: repoFiles(READS, READ_CHARS),
    anthropic: { intercept: scriptedModel({ mode, reads: READS, turnMs: TURN_MS, calls }) },
    env: {
      AGENT_TRIAGE: "on",
      AGENT_SPLIT_APPROVAL: "auto",
      AGENT_BUDGET_USD: "100",
      LINEAR_REQUESTS_PER_HOUR: String(LINEAR_PER_HOUR),
      LINEAR_REQUEST_BURST: "50",
      // Neither run may be cut short: the single task takes every part's turns in one session.
      AGENT_MAX_TURNS: String(turnsOf(PARTS.length, READS) + 10),
      LOG_LEVEL: values["log-level"],
    },
  });
  const merger = mergeOnOpen(world);
  try {
    const issue = world.newIssue(ISSUE);
    world.linear.requests.length = 0;
    const started = Date.now();
    await world.labelIssue(issue);
    const finished = (t: Task | null) => (mode === "split" ? t?.state === "done" : t?.state === "merged");
    const stuck = (t: Task | null) => t?.state === "failed" || t?.state === "stopped";
    const shown = new Map<string, string>();
    const parent = await world.waitFor(async () => {
      const t = await world.deps.tasks.get(issue.id);
      for (const x of values.trace ? await world.deps.tasks.list(100) : t ? [t] : []) {
        const line = `${x.state}${x.step ? ` (${x.step})` : ""}`;
        if (shown.get(x.identifier) !== line) console.log(`  [${mode} ${((Date.now() - started) / 1000).toFixed(1)} s] ${x.identifier}: ${line}`);
        shown.set(x.identifier, line);
      }
      if (stuck(t)) throw new Error(`the ${mode} run's task ${t?.state}: ${t?.error}`);
      return finished(t) ? t : null;
    }, `the ${mode} run to finish`, TIMEOUT_MS);
    const seconds = (Date.now() - started) / 1000;
    merger.stop();
    const children = await childrenOf(world, parent as Task);
    const merged = mode === "split" ? children.map((c) => c.branch) : [(parent as Task).branch];
    await expectAllWork(world, mode, merged);
    return {
      mode,
      inputTokens: promptTokens(world.anthropic.usages),
      modelCalls: world.anthropic.usages.length,
      callKinds: [...calls].map(([k, n]) => `${n} ${k}`).join(", "),
      seconds,
      linearRequests: world.linear.requests.length,
      linearOps: countBy(world.linear.requests.map((r) => r.operationName ?? "(unnamed)")),
      children,
      outcome: (parent as Task).state,
    };
  } finally {
    merger.stop();
    if (values.trace) await writeFile(path.join(tmpdir(), `bench-split-${mode}.log`), world.logs.join(""));
    await world.close();
  }
}

/** The children of a split parent, with what each received from others and spent itself. */
async function childrenOf(world: World, parent: Task): Promise<Run["children"]> {
  const out: Run["children"] = [];
  for (const s of parent.plan?.subtasks ?? []) {
    const t = s.issueId ? await world.deps.tasks.get(s.issueId) : null;
    const u = t?.usage;
    out.push({
      key: s.key,
      identifier: s.identifier ?? "?",
      state: t?.state ?? "missing",
      transfer: t?.transfer?.tokens ?? null,
      inputTokens: u ? u.input + u.cacheRead + u.cacheWrite : 0,
      turns: t?.turns ?? 0,
      attempts: t?.attempts ?? 0,
      branch: t?.branch ?? null,
      // Triaged before its run started: while it waited for its blockers.
      triagedWaiting: Boolean(t?.triage && t.startedAt && Date.parse(t.triage.at) < Date.parse(t.startedAt)),
    });
  }
  return out;
}

const exec = promisify(execFile);

/**
 * Merges the run's branches into a clone of the base branch and checks every part's file is
 * there: a run cut short (a turn limit, a failed child) must fail the bench, not look fast. The
 * GitHub fake marks a PR merged without touching git, so the merge is done here, after the timing.
 */
async function expectAllWork(world: World, mode: string, branches: Array<string | null | undefined>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), "bench-split-merged-"));
  const git = (...args: string[]) => exec("git", ["-c", "user.name=bench", "-c", "user.email=bench@example.com", ...args], { cwd: dir });
  try {
    await git("clone", "-q", world.remote.url, ".");
    for (const b of branches) {
      if (!b) throw new Error(`the ${mode} run finished with a task that has no branch`);
      await git("merge", "-q", "--no-edit", `origin/${b}`);
    }
    const missing: string[] = [];
    for (const p of PARTS) if (!(await stat(path.join(dir, partFile(p))).catch(() => null))) missing.push(partFile(p));
    if (missing.length > 0) throw new Error(`the ${mode} run's merged branches lack ${missing.join(", ")}: its work was cut short`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The bound model latency alone sets: model calls one after another on the split's longest path
 * (the parent's triage and plan, the first wave's triage and turns, then the second wave's turns:
 * its triage ran while it waited) against the single task's (one triage and every turn).
 */
function criticalPath(): string {
  const turns = turnsOf(1, READS);
  const split = 2 + 1 + 2 * turns;
  const single = 1 + turnsOf(PARTS.length, READS);
  return `model calls on the longest path: split ${split} (triage + plan + the first wave's triage + 2 waves × ${turns} turns; the second wave was triaged while it waited) vs single ${single}, a floor of ${(split / single).toFixed(2)} before any PR, merge or tick; the rest is the service's own time per wave (workspace, checks, push, PR, merge, tick)`;
}

function countBy(names: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return counts;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);

function report(split: Run, single: Run): void {
  console.table([
    { measure: "input tokens (input + cache read + cache write)", split: split.inputTokens, single: single.inputTokens, "split ÷ single": ratio(split.inputTokens, single.inputTokens).toFixed(2) },
    { measure: "model calls", split: split.modelCalls, single: single.modelCalls, "split ÷ single": ratio(split.modelCalls, single.modelCalls).toFixed(2) },
    { measure: `wall time, s (model ${TURN_MS} ms a call)`, split: split.seconds.toFixed(1), single: single.seconds.toFixed(1), "split ÷ single": ratio(split.seconds, single.seconds).toFixed(2) },
    { measure: "Linear requests", split: split.linearRequests, single: single.linearRequests, "split ÷ single": ratio(split.linearRequests, single.linearRequests).toFixed(2) },
  ]);
  console.log(`model calls: split ${split.callKinds}; single ${single.callKinds}`);
  console.log("\nsub-issues of the split run");
  console.table(split.children.map((c) => ({ key: c.key, issue: c.identifier, state: c.state, attempts: c.attempts, turns: c.turns, "triaged while waiting": c.triagedWaiting, "state-transfer tokens": c.transfer ?? "not recorded", "own input tokens": c.inputTokens })));
  const ops = [...new Set([...split.linearOps.keys(), ...single.linearOps.keys()])].sort((a, b) => (split.linearOps.get(b) ?? 0) - (split.linearOps.get(a) ?? 0));
  console.log("\nLinear requests by operation");
  console.table(ops.map((op) => ({ operation: op, split: split.linearOps.get(op) ?? 0, single: single.linearOps.get(op) ?? 0 })));
  const transfers = split.children.map((c) => c.transfer);
  const maxTransfer = Math.max(...transfers.map((t) => t ?? Number.POSITIVE_INFINITY));
  const tokens = ratio(split.inputTokens, single.inputTokens);
  const wall = ratio(split.seconds, single.seconds);
  const work = PARTS.length;
  const goals: Array<[string, boolean, string]> = [
    [
      "state-transfer tokens ≤ 2,000 per child",
      split.children.length === work && maxTransfer <= 2000,
      split.children.length !== work
        ? `${split.children.length} children instead of ${work}`
        : transfers.some((t) => t === null)
          ? "a child has no task.transfer recorded"
          : `largest ${maxTransfer} tokens`,
    ],
    ["split ÷ single input tokens ≤ 1.3", tokens <= 1.3, `${split.inputTokens} ÷ ${single.inputTokens} = ${tokens.toFixed(2)}`],
    [
      "split ÷ single wall time ≤ 0.6",
      wall <= 0.6,
      `${split.seconds.toFixed(1)} s ÷ ${single.seconds.toFixed(1)} s = ${wall.toFixed(2)}; ${criticalPath()}`,
    ],
  ];
  console.log("");
  for (const [goal, met, why] of goals) console.log(`${met ? "PASS" : "MISS"} ${goal}: ${why}`);
}

console.log(
  `split vs single: 4 parts (s1, s2; s3 and s4 after both), ${READS} reads of ${READ_CHARS} characters each per part, model latency ${TURN_MS} ms per call`,
);
console.log(
  `time runs ${SPEEDUP.toFixed(0)}× fast (a ${values["real-turn-s"]} s model call takes ${TURN_MS} ms), so Linear's request budget is ${LINEAR_PER_HOUR} an hour (5,000 × ${SPEEDUP.toFixed(0)}), burst 50`,
);
if (values.only === "single" || values.only === "split") {
  const run = await runMode(values.only);
  console.log(JSON.stringify(run, null, 2));
} else {
  const split = await runMode("split");
  const single = await runMode("single");
  report(split, single);
}
process.exit(0);
