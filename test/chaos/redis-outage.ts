// Chaos: a 30-second Redis outage under webhook load. Deliveries answered 503 are sent again
// later, as Linear retries and as an operator redelivers GitHub's; afterwards every delivery must
// map to exactly one job and every job must have run. Prints 5xx count, recovery time, losses.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { prCommentCreated } from "../fixtures/github-events.js";
import { GITHUB_SECRET } from "../helpers/config.js";
import { startOwnRedis } from "../helpers/redis-server.js";
import { signGitHub } from "../helpers/sign.js";
import { startWorld } from "../helpers/world.js";

const { values } = parseArgs({
  options: { "outage-s": { type: "string", default: "30" }, "rate": { type: "string", default: "40" }, "before-s": { type: "string", default: "5" }, "after-s": { type: "string", default: "10" } },
});
const outageMs = Number(values["outage-s"]) * 1000;
const interval = 1000 / Number(values.rate);
const dir = await mkdtemp(path.join(tmpdir(), "awf-chaos-redis-"));
const redis = await startOwnRedis({ persistDir: dir });
const world = await startWorld({ env: { REDIS_URL: redis.url, RECONCILE_INTERVAL_MS: "0", REVISION_DEBOUNCE_MS: "0" } });

interface Delivery { id: string; comment: number; body: string; status?: number; jobId?: string; tries: number }
const deliveries: Delivery[] = [];
const retry: Delivery[] = [];
const statuses = new Map<number, number>();
let serverErrors = 0;
let outageEndedAt = 0;
let firstSuccessAfterOutage = 0;

async function send(d: Delivery) {
  d.tries += 1;
  const res = await world.app.inject({
    method: "POST",
    url: "/webhooks/github",
    payload: d.body,
    headers: { "content-type": "application/json", "x-github-event": "issue_comment", "x-github-delivery": d.id, "x-hub-signature-256": signGitHub(GITHUB_SECRET, d.body) },
  });
  statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
  if (res.statusCode >= 500) {
    serverErrors += 1;
    retry.push(d);
    return;
  }
  if (outageEndedAt && !firstSuccessAfterOutage) firstSuccessAfterOutage = Date.now();
  d.status = res.statusCode;
  d.jobId = res.json().jobId;
}

const total = Number(values["before-s"]) * 1000 + outageMs + Number(values["after-s"]) * 1000;
const startedAt = Date.now();
let n = 0;
const outage = (async () => {
  await new Promise((r) => setTimeout(r, Number(values["before-s"]) * 1000));
  await redis.stop();
  await new Promise((r) => setTimeout(r, outageMs));
  await redis.start();
  outageEndedAt = Date.now();
})();
while (Date.now() - startedAt < total) {
  n += 1;
  // A discussion comment on an unknown PR: a real job that the worker quickly ignores.
  const body = JSON.stringify(prCommentCreated({ owner: "acme", repo: "widgets", pr: 999, id: 100_000 + n, body: "Looks fine", by: { login: "grace" } }));
  const d: Delivery = { id: randomUUID(), comment: 100_000 + n, body, tries: 0 };
  deliveries.push(d);
  void send(d);
  if (outageEndedAt && retry.length > 0) void send(retry.shift() as Delivery);
  await new Promise((r) => setTimeout(r, interval));
}
await outage;
// The senders retry whatever was refused.
for (let round = 0; round < 20 && retry.length > 0; round++) {
  for (const d of retry.splice(0)) await send(d);
  if (retry.length) await new Promise((r) => setTimeout(r, 500));
}
await new Promise((r) => setTimeout(r, 3000));

const accepted = deliveries.filter((d) => d.status === 202 || d.status === 200);
const jobIds = new Set(accepted.map((d) => d.jobId));
const jobs = await world.deps.queues.feedback.getJobCounts("completed", "failed", "active", "waiting", "delayed");
const lost = deliveries.length - accepted.length;
const duplicates = accepted.length - jobIds.size;
const rows = [
  ["deliveries sent (first tries)", String(deliveries.length)],
  ["requests incl. resends", String([...statuses.values()].reduce((a, b) => a + b, 0))],
  ["by status", [...statuses].map(([s, c]) => `${s}×${c}`).join(" ")],
  ["5xx answers (all 503, retried)", String(serverErrors)],
  ["jobs created", String(jobIds.size)],
  ["jobs completed / waiting", `${jobs.completed} / ${(jobs.waiting ?? 0) + (jobs.active ?? 0) + (jobs.delayed ?? 0)}`],
  ["duplicate jobs", String(duplicates)],
  ["lost deliveries", String(lost)],
  ["recovery time after Redis returned", `${firstSuccessAfterOutage ? firstSuccessAfterOutage - outageEndedAt : -1} ms`],
];
process.stdout.write(`\nredis-outage chaos (${outageMs / 1000} s outage)\n${rows.map(([k, v]) => `  ${String(k).padEnd(36)} ${v}`).join("\n")}\n`);
await world.close();
await redis.stop();
await rm(dir, { recursive: true, force: true });
const ok = lost === 0 && duplicates === 0 && jobs.completed === jobIds.size && [...statuses.keys()].every((s) => s < 500 || s === 503);
process.stdout.write(ok ? "redis-outage: PASS\n" : "redis-outage: FAIL\n");
process.exit(ok ? 0 : 1);
