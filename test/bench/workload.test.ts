import { describe, expect, it } from "vitest";
import { runWorkload } from "../../bench/workload/harness.js";
import { report } from "../../bench/workload/report.js";

// The workload benchmark's harness, kept from rotting: a small run through the real service
// (server and two worker processes, the fakes, a private redis-server) must give every issue
// exactly one PR and print its figures. Speed is the benchmark's business, not this test's.
describe("the workload benchmark's harness", () => {
  it("gives 5 labelled issues over 4 repositories exactly one PR each and prints the counts", async () => {
    const result = await runWorkload({
      issues: 5,
      workers: 2,
      concurrency: 2,
      turnMs: 20,
      gapMs: 0,
      repoFiles: 12,
      commits: 2,
      setupRounds: 1,
      timeoutMs: 40_000,
      logLevel: "warn",
    });
    const goals = report(result);
    expect(result.losses, JSON.stringify(result.losses)).toEqual([]);
    expect(result.duplicates).toEqual([]);
    expect(result.prs).toBe(5);
    expect(result.unmatchedModelRequests).toBe(0);
    // Every figure was measured: the four cold first requests, the warm one, every PR's latency.
    expect(result.firstRequestMs.cold).toHaveLength(4);
    expect(result.firstRequestMs.warm).toHaveLength(1);
    expect(result.firstRequestMs.alone).toHaveLength(4);
    expect(result.serviceLatencyMs).toHaveLength(5);
    expect(result.linear.size).toBeGreaterThan(0);
    expect(result.github.size).toBeGreaterThan(0);
    expect(goals.map(([goal]) => goal)).toContain("duplicates and losses 0");
  }, 55_000);
});
