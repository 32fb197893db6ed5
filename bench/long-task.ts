/* eslint-disable no-console -- a benchmark prints its results as tables */
// npm run bench:long-task [-- --window N --multiple N --real-time]: long agent tasks through the
// whole service (real Redis, git and sandbox; loopback fakes; a scripted model), measured side by
// side in one run:
//  1. a task whose tool output totals `multiple` × the fake's context window (the fake refuses any
//     prompt over its window, as the API does), with context management on, and the same task on a
//     model whose window fits it all, with context management in effect off;
//  2. a task whose check takes 6 minutes (scaled 1:60 unless --real-time), with and without the
//     prompt-cache refresh.
import { parseArgs } from "node:util";
import type { RecordedUsage } from "../test/fakes/anthropic/index.js";
import { answerCompaction, cacheReadShare, longTaskTurns, promptTokens } from "../test/helpers/long-task.js";
import { bash, edit, say } from "../test/helpers/turns.js";
import { startWorld } from "../test/helpers/world.js";
import { costOf } from "../src/agent/pricing.js";

const { values } = parseArgs({
  options: {
    window: { type: "string", default: "40000" },
    multiple: { type: "string", default: "3" },
    "real-time": { type: "boolean", default: false },
  },
});
const WINDOW = Number(values.window);
const MULTIPLE = Number(values.multiple);
const SCALE = values["real-time"] ? 1 : 60;
const MODEL = "claude-sonnet-5-5";

interface Run {
  outcome: "completed" | "failed";
  turns: number;
  requests: number;
  clearings: number;
  compactions: number;
  promptTokens: number;
  share: number;
  costUsd: number;
  seconds: number;
}

/** One labelled issue through the service; the fake and the environment decide the rest. */
async function runTask(p: {
  fakeWindow?: number;
  env: Record<string, string>;
  turns: ReturnType<typeof longTaskTurns>;
  files?: Record<string, string>;
  cacheTtlMs?: number;
}): Promise<Run> {
  const world = await startWorld({
    anthropic: { contextWindow: p.fakeWindow, intercept: refreshOrCompaction, cacheTtlMs: p.cacheTtlMs },
    env: { AGENT_MODEL: MODEL, AGENT_MAX_TURNS: "1000", AGENT_BUDGET_USD: "100", LOG_LEVEL: "warn", ...p.env },
    ...(p.files ? { files: p.files } : {}),
  });
  try {
    const started = Date.now();
    const issue = world.newIssue();
    world.anthropic.script(p.turns);
    const res = await world.labelIssue(issue);
    const outcome = await world.waitForJob(res.body.jobId as string, "implement", 30 * 60_000);
    const task = await world.deps.tasks.get(issue.id);
    if (outcome === "failed") console.log(`the task failed: ${task?.error}`);
    const usages = world.anthropic.usages;
    return {
      outcome,
      turns: task?.turns ?? 0,
      requests: world.anthropic.requests.length,
      clearings: task?.context?.clearings ?? 0,
      compactions: task?.context?.compactions ?? 0,
      promptTokens: promptTokens(usages),
      share: cacheReadShare(usages),
      costUsd: usages.reduce((n, u) => n + cost(u), 0),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await world.close();
  }
}

/** Answers the runner's own calls (compaction notes, cache refreshes) outside the script. */
function refreshOrCompaction(req: unknown) {
  const last = JSON.stringify((req as { messages?: Array<{ content: unknown }> }).messages?.at(-1)?.content ?? "");
  if (last.includes("[cache refresh]")) return say("OK");
  return answerCompaction(req);
}

function cost(u: RecordedUsage): number {
  return costOf(MODEL, { input: u.input_tokens, output: u.output_tokens, cacheWrite: u.cache_creation_input_tokens, cacheRead: u.cache_read_input_tokens });
}

function row(name: string, r: Run) {
  return {
    run: name,
    outcome: r.outcome,
    turns: r.turns,
    "model calls": r.requests,
    clearings: r.clearings,
    compactions: r.compactions,
    "prompt tokens": r.promptTokens,
    "cache-read share (turns ≥ 2)": r.share.toFixed(3),
    "cost (USD)": r.costUsd.toFixed(3),
    seconds: r.seconds.toFixed(1),
  };
}

const turns = longTaskTurns({ window: WINDOW, multiple: MULTIPLE });
console.log(`long task: ${turns.length} turns, tool output ≈ ${MULTIPLE} × a ${WINDOW}-token window (model priced as ${MODEL})`);
const on = await runTask({ fakeWindow: WINDOW, env: { AGENT_CONTEXT_WINDOW: String(WINDOW) }, turns });
// Off: a window so large the runner never trims, on a fake that accepts it all (on the small-window
// model it could not finish at all without trimming).
const off = await runTask({ env: { AGENT_CONTEXT_WINDOW: "100000000" }, turns });
console.table([row("context management on", on), row("off (a window that fits everything)", off)]);
console.log(`off ÷ on: ${(off.promptTokens / on.promptTokens).toFixed(2)}× the prompt tokens, ${(off.costUsd / on.costUsd).toFixed(2)}× the cost`);

// A check of 6 minutes: the prompt cache (5 minutes) expires during it unless refreshed.
const checkSeconds = 360 / SCALE;
const ttlMs = 300_000 / SCALE;
const refreshSeconds = Math.max(1, Math.floor(270 / SCALE));
// A repository with conventions of a realistic size: they go into the system prompt, the part of
// every request that the cache keeps.
const conventions = Array.from({ length: 120 }, (_, i) => `- Rule ${i}: keep functions short, name things for what they do, test every branch.`).join("\n");
const files = {
  "README.md": "# widgets\n",
  "AGENTS.md": `# Conventions\n${conventions}\n`,
  "greet.txt": "hello\n",
  // Fails the first time after a long run, then passes at once: the agent gets one failure to fix.
  "check.sh": `#!/bin/sh\ntest -f /tmp/checked-once && exit 0\ntouch /tmp/checked-once\nsleep ${checkSeconds}\nexit 1\n`,
};
const work = [
  ...Array.from({ length: 8 }, (_, i) => bash(`echo step ${i}; head -c 800 /dev/zero | tr '\\0' s`)),
  edit({ command: "create", path: "/repo/greet.txt", file_text: "hello, checked\n" }),
  say("Done."),
];
const checkTurns = [...work, bash("echo fixed"), say("Fixed.")];
console.log(`\ncheck of ${checkSeconds} s (6 minutes scaled 1:${SCALE}); cache lifetime ${ttlMs / 1000} s; refresh every ${refreshSeconds} s`);
const warm = await runTask({ env: { AGENT_CACHE_REFRESH_SECONDS: String(refreshSeconds) }, turns: checkTurns, files, cacheTtlMs: ttlMs });
const cold = await runTask({ env: { AGENT_CACHE_REFRESH_SECONDS: "0" }, turns: checkTurns, files, cacheTtlMs: ttlMs });
console.table([row("refresh on", warm), row("refresh off", cold)]);
const goals = [
  ["long task completes with context management", on.outcome === "completed"],
  ["long task cache-read share ≥ 0.9", on.share >= 0.9],
  ["off costs more", off.promptTokens > on.promptTokens],
  ["6-minute check: cache-read share ≥ 0.9", warm.share >= 0.9],
] as const;
for (const [goal, met] of goals) console.log(`${met ? "MET   " : "MISSED"} ${goal}`);
process.exit(0);
