/**
 * Long hostile-input run against the webhook routes (the lead wires it into `npm run test:chaos`).
 *
 *   npx tsx test/chaos/fuzz-webhooks.ts [--count 20000] [--seed 1] [--concurrency 8] [--max-heap-growth-mb 50]
 *
 * Builds the app over real Redis under a fresh prefix (as the tests do), sends `count` generated
 * requests through `app.inject`, probes header limits over a real socket, prints a table, deletes
 * its keys, and exits 1 if anything was accepted, answered 5xx, enqueued or marked a delivery,
 * got a status its case does not allow, or if the heap grew by more than the allowed MB.
 */
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { startTestApp } from "../helpers/app.js";
import { GITHUB_SECRET, LINEAR_SECRET } from "../helpers/config.js";
import { keysUnder } from "../helpers/redis.js";
import { fuzzWebhooks, probeHeaderLimits } from "../fuzz/webhook-fuzz.js";

const out = (s = "") => process.stdout.write(`${s}\n`);

function positiveInt(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive integer, got ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return n;
}

/** Heap readings mean little without a full GC before them; expose it if node was not started with it. */
function ensureGc(): boolean {
  const g = globalThis as { gc?: () => void };
  if (typeof g.gc === "function") return true;
  try {
    setFlagsFromString("--expose-gc");
    g.gc = runInNewContext("gc") as () => void;
    return typeof g.gc === "function";
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      count: { type: "string", default: "20000" },
      seed: { type: "string", default: "1" },
      concurrency: { type: "string", default: "8" },
      "max-heap-growth-mb": { type: "string", default: "50" },
    },
    strict: true,
    allowPositionals: false,
  });
  const count = positiveInt("count", values.count);
  const seed = positiveInt("seed", values.seed);
  const concurrency = positiveInt("concurrency", values.concurrency);
  const maxHeapGrowthMb = positiveInt("max-heap-growth-mb", values["max-heap-growth-mb"]);
  const gc = ensureGc();

  out(`fuzzing the webhook routes: ${count} requests, seed ${seed}, concurrency ${concurrency}, gc ${gc ? "on" : "off"}`);
  const t = await startTestApp();
  try {
    const step = Math.max(1000, Math.round(count / 10 / 1000) * 1000);
    const report = await fuzzWebhooks({
      app: t.app,
      count,
      seed,
      concurrency,
      secrets: { github: GITHUB_SECRET, linear: LINEAR_SECRET },
      progressEvery: step,
      onProgress: (done) => out(`  … ${done}/${count}`),
    });

    const address = await t.app.listen({ host: "127.0.0.1", port: 0 });
    const probes = await probeHeaderLimits(address, { github: GITHUB_SECRET, linear: LINEAR_SECRET });

    const jobs: Record<string, number> = {};
    for (const name of ["implement", "feedback", "revise", "lifecycle"] as const) {
      const counts = await t.deps.queues[name].getJobCounts();
      jobs[name] = Object.values(counts).reduce((a, b) => a + b, 0);
    }
    const jobTotal = Object.values(jobs).reduce((a, b) => a + b, 0);
    const keys = await keysUnder(t.prefix);
    const markers = keys.filter((k) => k.includes(":delivery:")).length;
    const growth = Math.round((report.heapAfterMb - report.heapBeforeMb) * 10) / 10;
    const rps = report.durationMs > 0 ? Math.round(report.sent / (report.durationMs / 1000)) : report.sent;

    const rows: Array<[string, string]> = [
      ["requests sent", String(report.sent)],
      ...Object.entries(report.byStatus)
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([s, n]): [string, string] => [`  status ${s}`, String(n)]),
      ["accepted", String(report.accepted)],
      ["5xx", String(report.serverErrors)],
      ["unexpected status for case", String(report.unexpected)],
      ["inject errors", String(report.injectErrors)],
      ["jobs created", `${jobTotal} (${Object.entries(jobs).map(([q, n]) => `${q} ${n}`).join(", ")})`],
      ["delivery markers", String(markers)],
      ["keys left under prefix", String(keys.length)],
      ["prototype polluted", String(report.prototypePolluted)],
      ["heap before (MB)", report.heapBeforeMb.toFixed(1)],
      ["heap after (MB)", report.heapAfterMb.toFixed(1)],
      ["heap growth (MB)", `${growth.toFixed(1)}${report.gcAvailable ? "" : " (no gc: indicative only)"}`],
      ["duration (ms)", String(report.durationMs)],
      ["req/s", String(rps)],
      ["socket probes ok", `${probes.filter((p) => p.ok).length}/${probes.length}`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    out();
    out(`${"figure".padEnd(width)} | value`);
    out(`${"-".repeat(width)}-+-${"-".repeat(24)}`);
    for (const [k, v] of rows) out(`${k.padEnd(width)} | ${v}`);
    out();
    out("by case kind:");
    for (const [kind, statuses] of Object.entries(report.byKind).sort()) {
      out(`  ${kind.padEnd(22)} ${Object.entries(statuses).map(([s, n]) => `${s}×${n}`).join("  ")}`);
    }

    const failures: string[] = [];
    if (report.accepted > 0) failures.push(`${report.accepted} request(s) accepted`);
    if (report.serverErrors > 0) failures.push(`${report.serverErrors} 5xx answer(s)`);
    if (jobTotal > 0) failures.push(`${jobTotal} job(s) created`);
    if (markers > 0) failures.push(`${markers} delivery marker(s) written`);
    if (report.unexpected > 0) failures.push(`${report.unexpected} answer(s) outside the case's expected statuses`);
    if (report.injectErrors > 0) failures.push(`${report.injectErrors} request(s) inject refused`);
    if (report.prototypePolluted) failures.push("Object.prototype was polluted");
    if (growth > maxHeapGrowthMb) failures.push(`heap grew ${growth} MB (limit ${maxHeapGrowthMb} MB)`);
    for (const p of probes.filter((x) => !x.ok)) {
      failures.push(`socket probe "${p.name}": got ${p.status ?? "no answer"} (${p.detail}), expected ${p.expect.join("/")}`);
    }

    const section = (title: string, lines: string[]) => {
      if (lines.length === 0) return;
      out();
      out(`${title}:`);
      for (const l of lines) out(`  ${l}`);
    };
    section("accepted (samples)", report.samplesOfAccepted);
    section("5xx (samples)", report.samplesOf5xx);
    section("unexpected statuses (samples)", report.samplesOfUnexpected);
    section("inject errors (samples)", report.samplesOfInjectErrors);

    out();
    if (failures.length === 0) {
      out("PASS: nothing accepted, nothing enqueued, no 5xx, heap flat");
      return 0;
    }
    out("FAIL:");
    for (const f of failures) out(`  - ${f}`);
    return 1;
  } finally {
    await t.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fuzz-webhooks crashed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
