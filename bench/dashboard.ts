/* eslint-disable no-console -- a benchmark prints its results as tables */
// npm run bench:dashboard [-- --tasks 1000 --rate 20 --seconds 10]: the dashboard under load. Seeds
// `--tasks` tasks, then changes them at `--rate` events a second (working ⇄ checks moves, steps,
// turns and cost) for `--seconds`, twice in one run: once with no page open (the driver's own
// cost) and once with a page's event stream connected. Prints the bytes the server sent per event
// on that stream, the server CPU per event (the difference of the two phases), and what the old
// pattern (the page refetching `GET /` on every event) costs per event, measured in the same run.
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import type { Task } from "../src/tasks/task.js";
import { seedMany } from "../test/dashboard/seed.js";
import { openSse } from "../test/dashboard/sse-reader.js";
import { startTestApp, type TestApp } from "../test/helpers/app.js";
import { uniquePrefix } from "../test/helpers/redis.js";

const { values } = parseArgs({
  options: {
    tasks: { type: "string", default: "1000" },
    rate: { type: "string", default: "20" },
    seconds: { type: "string", default: "10" },
    refetches: { type: "string", default: "20" },
  },
});
const TASKS = Number(values.tasks);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const REFETCHES = Number(values.refetches);
// seedMany cycles 8 states: these indexes are working (i % 8 === 0) or checking (i % 8 === 4).
const MOVERS = Array.from({ length: TASKS }, (_, i) => i).filter((i) => i % 8 === 0 || i % 8 === 4);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** One event: a task moves between working and checks, or records a turn and its cost. */
async function change(t: TestApp, n: number): Promise<void> {
  const id = `bulk-${MOVERS[n % MOVERS.length]}`;
  await t.deps.tasks.update(id, (task: Task): Partial<Task> => {
    if (n % 3 === 0) return { state: task.state === "working" ? "checking" : "working", step: task.state === "working" ? "running `npm test`" : `turn ${task.turns + 1}` };
    return { turns: task.turns + 1, step: `turn ${task.turns + 1}: bash`, costUsd: task.costUsd + 0.01 };
  });
}

/** `RATE` events a second for `SECONDS`, paced from the start so slow ones do not stretch the run. */
async function drive(t: TestApp, offset: number): Promise<{ events: number; cpu: number; wall: number }> {
  const total = RATE * SECONDS;
  const cpu0 = cpuMs();
  const start = Date.now();
  for (let n = 0; n < total; n++) {
    const due = start + (n * 1000) / RATE;
    if (due > Date.now()) await sleep(due - Date.now());
    await change(t, offset + n);
  }
  // Let the last flush go out before the CPU is read.
  await sleep(300);
  return { events: total, cpu: cpuMs() - cpu0, wall: (Date.now() - start) / 1000 };
}

async function main(): Promise<void> {
  const t = await startTestApp({ LOG_LEVEL: "warn", REDIS_PREFIX: uniquePrefix("bench-dash") });
  try {
    const seedStart = Date.now();
    await seedMany(t.deps.tasks, TASKS);
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    console.log(`seeded ${TASKS} tasks in ${((Date.now() - seedStart) / 1000).toFixed(1)} s; ${RATE} events/s for ${SECONDS} s per phase; load ${(await import("node:os")).loadavg().map((l) => l.toFixed(2)).join(" ")}`);

    // The page, once: its size is what the old pattern fetched on every event.
    const page = await (await fetch(`${base}/`, { headers: { accept: "text/html" } })).text();
    const seq = /<div id="live" data-seq="([^"]*)"/.exec(page)?.[1] ?? "";

    const idle = await drive(t, 0);
    const stream = await openSse(`${base}/api/events?since=${encodeURIComponent(seq)}`);
    await stream.next((e) => e.event === "hello", 30_000);
    const bytes0 = stream.bytes();
    const deltas0 = stream.all().filter((e) => e.event === "delta").length;
    const live = await drive(t, idle.events);
    const deltaBytes = stream.bytes() - bytes0;
    const deltas = stream.all().filter((e) => e.event === "delta").length - deltas0;
    stream.close();

    // The old pattern: one full GET / per event.
    const cpu0 = cpuMs();
    let refetchBytes = 0;
    for (let i = 0; i < REFETCHES; i++) refetchBytes += Buffer.byteLength(await (await fetch(`${base}/`, { headers: { accept: "text/html" } })).text());
    const refetchCpu = (cpuMs() - cpu0) / REFETCHES;

    const perEvent = (x: number) => x / live.events;
    const serverCpu = perEvent(live.cpu - idle.cpu);
    console.log("");
    console.log("| per event | deltas (this release) | refetch of GET / (before) | ratio |");
    console.log("|---|---|---|---|");
    console.log(`| bytes the server sent | ${Math.round(perEvent(deltaBytes)).toLocaleString("en")} | ${Math.round(refetchBytes / REFETCHES).toLocaleString("en")} | ${((refetchBytes / REFETCHES) / perEvent(deltaBytes)).toFixed(0)}× |`);
    console.log(`| server CPU (ms) | ${serverCpu.toFixed(2)} | ${refetchCpu.toFixed(2)} | ${(refetchCpu / Math.max(serverCpu, 0.01)).toFixed(0)}× |`);
    console.log("");
    console.log(`${live.events} events in ${live.wall.toFixed(1)} s went out as ${deltas} deltas (coalesced per 100 ms); ${Math.round(deltaBytes / 1024)} KiB in all.`);
    console.log(`driver CPU with no page open: ${perEvent(idle.cpu).toFixed(2)} ms/event; with the page's stream: ${perEvent(live.cpu).toFixed(2)} ms/event (server CPU is the difference).`);
    console.log(`GET / with ${TASKS} tasks: ${Math.round(refetchBytes / REFETCHES / 1024)} KiB and ${refetchCpu.toFixed(1)} ms of this process's CPU (server and fetch) each.`);
  } finally {
    await t.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
