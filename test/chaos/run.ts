// npm run test:chaos: the long fault runs, one after another, each printing its own figures.
import { spawnSync } from "node:child_process";

const runs: Array<[string, string[]]> = [
  ["fuzz-webhooks.ts", ["--count", "20000"]],
  ["kill-workers.ts", ["--jobs", "100"]],
  ["redis-outage.ts", ["--outage-s", "30"]],
];
const results: Array<[string, number]> = [];
for (const [script, args] of runs) {
  const started = Date.now();
  const r = spawnSync(process.execPath, ["--import", "tsx", new URL(script, import.meta.url).pathname, ...args], {
    stdio: "inherit",
  });
  results.push([`${script} ${args.join(" ")} (${((Date.now() - started) / 1000).toFixed(0)} s)`, r.status ?? 1]);
}
process.stdout.write(`\nchaos summary\n${results.map(([n, c]) => `  ${c === 0 ? "PASS" : "FAIL"}  ${n}`).join("\n")}\n`);
process.exit(results.every(([, c]) => c === 0) ? 0 : 1);
