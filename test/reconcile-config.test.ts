import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

describe("RECONCILE_ADOPT_EXISTING", () => {
  it("is off unless set to true, in any case", () => {
    expect(loadConfig({}).jobs.reconcileAdoptExisting).toBe(false);
    expect(loadConfig({ RECONCILE_ADOPT_EXISTING: "false" }).jobs.reconcileAdoptExisting).toBe(false);
    expect(loadConfig({ RECONCILE_ADOPT_EXISTING: " TRUE " }).jobs.reconcileAdoptExisting).toBe(true);
  });

  it("refuses anything but true or false, naming the variable", () => {
    expect(() => loadConfig({ RECONCILE_ADOPT_EXISTING: "yes" })).toThrow(ConfigError);
    expect(() => loadConfig({ RECONCILE_ADOPT_EXISTING: "yes" })).toThrow(/RECONCILE_ADOPT_EXISTING: must be true or false, not "yes"/);
  });
});
