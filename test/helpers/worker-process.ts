// A separate worker process for tests of crashes, shutdowns and cross-process limits: the real
// entry path (run + signal handling) minus the server, configured from the environment given.
import { loadConfig } from "../../src/config.js";
import { closeOnSignals, run } from "../../src/main.js";

const running = await run(loadConfig(process.env, ["worker"]), ["worker"]);
closeOnSignals(running);
process.send?.("ready");
process.on("message", async (message) => {
  if (message !== "close") return;
  await running.close();
  process.exit(0);
});
