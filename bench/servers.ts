// Child process of bench/run.ts: serves the bare Fastify baseline, the two floor routes and the
// real webhook app on their own ports, so the load generator does not share an event loop with them.
import Fastify from "fastify";
import { buildApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { createDeps } from "../src/deps.js";
import { floorRoutes } from "./floors.js";

const [prefix, secret] = process.argv.slice(2) as [string, string];

const bare = Fastify({ logger: false });
bare.post("/hello", async () => ({ hello: "world" }));
const bareAddress = await bare.listen({ port: 0, host: "127.0.0.1" });

const config = loadConfig({
  REDIS_PREFIX: prefix,
  GITHUB_WEBHOOK_SECRET: secret,
  LINEAR_WEBHOOK_SECRET: secret,
  LOG_LEVEL: "silent",
});
const deps = await createDeps(config);
const app = await buildApp(deps);
const appAddress = await app.listen({ port: 0, host: "127.0.0.1" });

const floor = Fastify({ logger: false });
await floor.register(floorRoutes, { deps, secret });
const floorAddress = await floor.listen({ port: 0, host: "127.0.0.1" });

process.send?.({ bareAddress, appAddress, floorAddress });
process.on("message", async (m) => {
  // The parent samples this process's CPU time around each run, for CPU time per request.
  if (m === "cpu") process.send?.({ cpu: process.cpuUsage() });
  if (m === "close") {
    await Promise.all([bare.close(), app.close(), floor.close()]);
    await deps.close();
    process.exit(0);
  }
});
