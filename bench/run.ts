// npm run bench [-- --seconds N]: signed-webhook ingest (verify + dedupe + enqueue into real Redis)
// against a bare Fastify hello-world route, measured side by side in one run.
import { fork } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { once } from "node:events";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { prCommentExample } from "../test/fixtures/github.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    pool: { type: "string", default: "120000" },
    connections: { type: "string", default: "32" },
  },
});
const seconds = Number(values.seconds);
const prefix = `awf-bench-${randomUUID().slice(0, 8)}`;
const secret = "bench-secret";

const child = fork(new URL("./servers.ts", import.meta.url), [prefix, secret], {
  execArgv: ["--import", "tsx"],
});
const [{ bareAddress, appAddress }] = (await once(child, "message")) as [
  { bareAddress: string; appAddress: string },
];

const template = prCommentExample();
let commentId = 1_000_000;

function makeSignedRequest() {
  // Every request is a distinct delivery of a distinct comment, so each one really enqueues a job.
  template.comment.id = commentId++;
  const body = JSON.stringify(template);
  return {
    method: "POST" as const,
    path: "/webhooks/github",
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": "issue_comment",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    },
  };
}

type Result = autocannon.Result;
async function load(url: string, opts: Partial<autocannon.Options>): Promise<Result> {
  return autocannon({ url, connections: Number(values.connections), pipelining: 1, duration: seconds, ...opts });
}

function row(name: string, r: Result) {
  const ok = r["2xx"];
  return `${name.padEnd(34)} ${r.requests.average.toFixed(0).padStart(8)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms   2xx ${ok}/${r.requests.total}   non2xx ${r.non2xx}   errors ${r.errors}`;
}

// The signed requests are built before measuring, so the load generator (which shares the two
// cores with the server and Redis) spends its time sending, and both targets get the very same
// requests: the ratio compares only what the servers do with them.
const pool = Array.from({ length: Number(values.pool) }, makeSignedRequest);
// The bare route may see a request twice; the ingest runs never do while the pool lasts.
let bareNext = 0;
let appNext = 0;
const toBare = () => ({ ...(pool[bareNext++ % pool.length] as ReturnType<typeof makeSignedRequest>), path: "/hello" });
const toApp = () => pool[appNext++ % pool.length] as ReturnType<typeof makeSignedRequest>;
// Warm both paths (JIT, Redis scripts) before measuring.
await load(bareAddress, { duration: 2, requests: [{ setupRequest: toBare }] });
await load(appAddress, { duration: 2, requests: [{ setupRequest: toApp }] });

const bare = await load(bareAddress, { requests: [{ setupRequest: toBare }] });
const ingest = await load(appAddress, { requests: [{ setupRequest: toApp }] });
const halfRate = Math.max(1, Math.floor(ingest.requests.average / 2));
const paced = await load(appAddress, {
  connections: 16,
  overallRate: halfRate,
  requests: [{ setupRequest: toApp }],
});

const ratio = ingest.requests.average / bare.requests.average;
const lines = [
  `agent-workforce ingest benchmark (${seconds}s per run, ${values.connections} connections, Node ${process.version})`,
  row("bare Fastify hello-world", bare),
  row("signed webhook ingest (max)", ingest),
  row(`signed webhook ingest @ ${halfRate} req/s`, paced),
  `ingest requests sent: ${appNext} from a pool of ${pool.length} distinct deliveries${appNext > pool.length ? " (pool exhausted: later ones were duplicates)" : ""}`,
  `ratio ingest/bare throughput: ${ratio.toFixed(2)}x (goal >= 0.50x)  ${ratio >= 0.5 ? "OK" : "BELOW GOAL"}`,
  `p99 at half the max ingest rate: ${paced.latency.p99} ms (goal <= 20 ms)  ${paced.latency.p99 <= 20 ? "OK" : "ABOVE GOAL"}`,
];
process.stdout.write(`${lines.join("\n")}\n`);

child.send("close");
await once(child, "exit");
const redis = new Redis();
let cursor = "0";
do {
  const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 5000);
  cursor = next;
  if (keys.length) await redis.del(...keys);
} while (cursor !== "0");
redis.disconnect();
