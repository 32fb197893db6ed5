// npm run bench:ingest [-- --seconds N --rounds N --connections N]: signed-webhook ingest (verify +
// dedupe + enqueue into real Redis) against the least a verified durable ingest does ("floor +
// verify") and a bare Fastify route, measured side by side in one run, with the goals of issue 16.
import { fork } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { once } from "node:events";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { prCommentExample } from "../test/fixtures/github.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "32" },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const prefix = `awf-bench-${randomUUID().slice(0, 8)}`;
const secret = "bench-secret";

const child = fork(new URL("./servers.ts", import.meta.url), [prefix, secret], {
  execArgv: ["--import", "tsx"],
});
// However this run ends, the servers go with it.
process.on("exit", () => child.kill());
const [{ bareAddress, appAddress, floorAddress }] = (await once(child, "message")) as [
  { bareAddress: string; appAddress: string; floorAddress: string },
];
const template = prCommentExample();
let commentId = 1_000_000;
type SignedRequest = ReturnType<typeof makeSignedRequest>;

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

/**
 * Requests signed before a run starts, so the load generator (which shares the two cores with the
 * server and Redis) only sends. Each ingest run gets fresh deliveries, sized from the best rate
 * seen so far, so none of its requests is a cheap duplicate.
 */
class Pool {
  private requests: SignedRequest[] = [];
  private next = 0;
  exhausted = false;
  refill(count: number) {
    // Drop the old pool first: a pool is hundreds of MB, and two at once need not exist.
    this.requests = [];
    this.requests = Array.from({ length: count }, makeSignedRequest);
    this.next = 0;
    this.exhausted = false;
  }
  take = (): SignedRequest => {
    if (this.next >= this.requests.length) this.exhausted = true;
    return this.requests[this.next++ % this.requests.length] as SignedRequest;
  };
  get size() {
    return this.requests.length;
  }
}

type Result = autocannon.Result & { serverCpu: NodeJS.CpuUsage };
async function serverCpu(): Promise<NodeJS.CpuUsage> {
  child.send("cpu");
  for (;;) {
    const [m] = (await once(child, "message")) as [{ cpu?: NodeJS.CpuUsage }];
    if (m.cpu) return m.cpu;
  }
}
async function load(url: string, opts: Partial<autocannon.Options>): Promise<Result> {
  const before = await serverCpu();
  const r = await autocannon({ url, connections, pipelining: 1, duration: seconds, ...opts });
  const after = await serverCpu();
  return Object.assign(r, { serverCpu: { user: after.user - before.user, system: after.system - before.system } });
}

const pool = new Pool();
// The bare route gets the very same signed requests (it parses their JSON too), at /hello.
const toBare = () => ({ ...pool.take(), path: "/hello" });
// The best rate seen per route sizes its next pool: a pool is about 13 KB per request.
const bestRate = new Map<string, number>();
/**
 * A run on fresh deliveries, at `path` of `address` (the app's route unless a floor's). On a busy
 * shared host one round can run at several times the rate of the round before, outrunning a pool
 * sized from it; such a run included duplicates, so it is measured again with a pool sized from
 * the rate it just reached.
 */
async function freshRun(address: string, path?: string, opts: Partial<autocannon.Options> = {}, warmUp = false): Promise<Result> {
  const duration = Number(opts.duration ?? seconds);
  const route = `${address}${path ?? ""}`;
  for (let attempt = 1; ; attempt++) {
    pool.refill(Math.ceil((opts.overallRate ?? bestRate.get(route) ?? 10_000) * duration * 2) + 2_000);
    const take = path ? () => ({ ...pool.take(), path }) : pool.take;
    const r = await load(address, { ...opts, requests: [{ setupRequest: take }] });
    // A cold warm-up says little about the next run's rate; only measured runs size the pools.
    if (!opts.overallRate && !warmUp) bestRate.set(route, Math.max(bestRate.get(route) ?? 0, r.requests.average));
    if (!pool.exhausted || warmUp) return r;
    if (attempt === 3 || opts.overallRate) {
      throw new Error("the pool of fresh deliveries ran out, so the run included duplicates; run again");
    }
    process.stderr.write(`${route} outran its ${pool.size} fresh deliveries at ${r.requests.average.toFixed(0)} req/s; measuring it again\n`);
  }
}

/** Takes the servers down and deletes every key this run wrote, however the run ended. */
async function shutDown(): Promise<void> {
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
}

try {
  // Warm every path (JIT, Redis scripts) before measuring.
  await freshRun(appAddress, undefined, { duration: 2 }, true);
  await freshRun(floorAddress, "/floor", { duration: 2 }, true);
  await freshRun(floorAddress, "/floor-verified", { duration: 2 }, true);
  await load(bareAddress, { duration: 2, requests: [{ setupRequest: toBare }] });

  // The sides alternate, so a disturbance on the shared machine hits one round, not one side.
  type Round = { bare: Result; floor: Result; verified: Result; ingest: Result };
  const measured: Round[] = [];
  for (let i = 0; i < rounds; i++) {
    const bare = await load(bareAddress, { requests: [{ setupRequest: toBare }] });
    const floor = await freshRun(floorAddress, "/floor");
    const verified = await freshRun(floorAddress, "/floor-verified");
    const ingest = await freshRun(appAddress);
    measured.push({ bare, floor, verified, ingest });
  }
  // "The maximum rate" is the median of the ingest rounds; floor + verify is paced at the same rate,
  // alternating with ingest, so a loaded host's latency shows on both sides.
  const halfRate = Math.max(1, Math.floor(medianOf(measured.map((m) => m.ingest.requests.average)) / 2));
  const paced: Array<{ verified: Result; ingest: Result }> = [];
  for (let i = 0; i < rounds; i++) {
    const pace = { connections: 16, overallRate: halfRate };
    paced.push({ verified: await freshRun(floorAddress, "/floor-verified", pace), ingest: await freshRun(appAddress, undefined, pace) });
  }
  process.stdout.write(`${report(measured, paced, halfRate).join("\n")}\n`);
} finally {
  await shutDown();
}

function medianOf(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
}

function row(name: string, r: Result): string {
  const perReq = (us: number) => (us / Math.max(1, r.requests.total)).toFixed(0);
  return `${name.padEnd(40)} ${r.requests.average.toFixed(0).padStart(8)} req/s   p50 ${String(r.latency.p50).padStart(3)} ms   p99 ${String(r.latency.p99).padStart(3)} ms   2xx ${r["2xx"]}/${r.requests.total}   non2xx ${r.non2xx}   errors ${r.errors}   server CPU/req ${perReq(r.serverCpu.user)} µs user + ${perReq(r.serverCpu.system)} µs system`;
}

function verdict(ok: boolean): string {
  return ok ? "PASS" : "MISS";
}

/** Every round's rows, then one line per goal of issue 16 with its figure and PASS or MISS. */
function report(
  measured: Array<{ bare: Result; floor: Result; verified: Result; ingest: Result }>,
  paced: Array<{ verified: Result; ingest: Result }>,
  halfRate: number,
): string[] {
  const r = (a: Result, b: Result) => a.requests.average / b.requests.average;
  const toVerified = medianOf(measured.map((m) => r(m.ingest, m.verified)));
  const toBare = medianOf(measured.map((m) => r(m.ingest, m.bare)));
  const p99 = medianOf(paced.map((p) => p.ingest.latency.p99));
  const floorP99 = medianOf(paced.map((p) => p.verified.latency.p99));
  const load = loadavg().map((l) => l.toFixed(2)).join(" ");
  const quietP99 = p99 <= 20;
  const loadedP99 = p99 <= 1.5 * floorP99;
  return [
    `agent-workforce ingest benchmark (${rounds} rounds of ${seconds}s per side, ${connections} connections, Node ${process.version}, ${cpus().length} CPUs, load average at the end ${load})`,
    ...measured.flatMap((m, i) => [
      row(`round ${i + 1} bare Fastify hello-world`, m.bare),
      row(`round ${i + 1} floor: map + claim + add`, m.floor),
      row(`round ${i + 1} floor + octokit verify`, m.verified),
      row(`round ${i + 1} signed webhook ingest`, m.ingest),
      `round ${i + 1} ingest/(floor + verify) ${r(m.ingest, m.verified).toFixed(2)}x; to bare: floor ${r(m.floor, m.bare).toFixed(2)}x, floor + verify ${r(m.verified, m.bare).toFixed(2)}x, ingest ${r(m.ingest, m.bare).toFixed(2)}x`,
    ]),
    ...paced.flatMap((p, i) => [
      row(`paced ${i + 1} floor + verify @ ${halfRate} req/s`, p.verified),
      row(`paced ${i + 1} ingest @ ${halfRate} req/s`, p.ingest),
    ]),
    `goal: ingest >= 0.75x floor + verify (median of ${rounds} rounds): ${toVerified.toFixed(2)}x  ${verdict(toVerified >= 0.75)}`,
    `goal: p99 at half the max ingest rate (${halfRate} req/s, median of ${rounds}) <= 20 ms: ${p99} ms  ${verdict(quietP99)}`,
    `goal on a loaded host: that p99 <= 1.5x floor + verify's p99 at the same rate (${floorP99} ms): ${(p99 / Math.max(1, floorP99)).toFixed(2)}x  ${verdict(loadedP99)}`,
    `ingest/bare Fastify (median of ${rounds} rounds, no goal; the stack's floor + verify is ${medianOf(measured.map((m) => r(m.verified, m.bare))).toFixed(2)}x): ${toBare.toFixed(2)}x`,
  ];
}
