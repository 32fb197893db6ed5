// One process of the service for `npm run bench:workload`, started as a user deploys it: the real
// entry path (run + signal handling) with the role BENCH_ROLE names (server or worker), configured
// from the environment. The bench reads what only the process itself can see over IPC: its
// event-loop delay (perf_hooks, reset when the load starts), CPU time and RSS. src/ knows nothing of it.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { loadConfig } from "../../src/config.js";
import { closeOnSignals, run } from "../../src/main.js";

/** What the process reports when asked for "stats". */
export interface ServiceStats {
  /** Event-loop delay since the last "reset", ms. */
  lag: { p50: number; p99: number; max: number; samples: number };
  /** process.cpuUsage(): this process's own user and system time, µs. */
  cpu: { user: number; system: number };
  rss: number;
}

const role = process.env.BENCH_ROLE === "server" ? "server" : "worker";
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
const running = await run(loadConfig(process.env, [role]), [role]);
closeOnSignals(running);
process.send?.({ type: "ready", address: running.address ?? null });

const ms = (ns: number) => ns / 1e6;
process.on("message", (message) => {
  if (message === "close") {
    void running.close().then(() => process.exit(0), () => process.exit(1));
  } else if (message === "reset") {
    lag.reset();
    process.send?.({ type: "reset" });
  } else if (message === "stats") {
    const stats: ServiceStats = {
      lag: { p50: ms(lag.percentile(50)), p99: ms(lag.percentile(99)), max: ms(lag.max), samples: lag.count },
      cpu: process.cpuUsage(),
      rss: process.memoryUsage().rss,
    };
    process.send?.({ type: "stats", stats });
  }
});
