// A separate worker process for tests of cross-process limits: the real CLI path minus the
// server, configured from the environment the test passes.
import { startWorkers } from "../../jobs/workers.js";
import { loadConfig } from "../../src/config.js";
import { createDeps } from "../../src/deps.js";

const deps = await createDeps(loadConfig(process.env, ["worker"]));
const workers = await startWorkers(deps);
process.send?.("ready");
process.on("message", async (message) => {
  if (message !== "close") return;
  await workers.close();
  await deps.close();
  process.exit(0);
});
