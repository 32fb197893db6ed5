import { describe, expect, it } from "vitest";
import { BatchedHolds } from "../../src/workspace/batched-holds.js";

/** A lock that records holds and can be kept busy until released. */
function recordingLock() {
  const holds: number[] = [];
  let busy: Promise<void> = Promise.resolve();
  let release: () => void = () => undefined;
  const hold = async (_signal: AbortSignal, body: () => Promise<void>) => {
    await busy;
    holds.push(Date.now());
    await body();
  };
  const occupy = () => {
    busy = new Promise<void>((r) => (release = r));
  };
  return { holds, hold, occupy, free: () => release() };
}

describe("BatchedHolds", () => {
  it("runs everything queued before the hold in that one hold, side by side, each with its own result", async () => {
    const holds = new BatchedHolds();
    const lock = recordingLock();
    lock.occupy();
    let running = 0;
    let most = 0;
    const work = (n: number) => async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 10));
      running -= 1;
      if (n === 2) throw new Error("add 2 failed");
      return n;
    };
    const calls = [1, 2, 3].map((n) => holds.run("repo", { signal: undefined, what: "add", hold: lock.hold }, work(n)));
    lock.free();
    const results = await Promise.allSettled(calls);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual([1, "add 2 failed", 3]);
    expect(lock.holds).toHaveLength(1);
    expect(most).toBe(3);
    // A caller after the hold began gets a hold of its own.
    expect(await holds.run("repo", { signal: undefined, what: "add", hold: lock.hold }, async () => 4)).toBe(4);
    expect(lock.holds).toHaveLength(2);
  });

  it("runs `before` (the fetch) once per hold ahead of the work, and its failure fails the hold's callers", async () => {
    const holds = new BatchedHolds();
    const lock = recordingLock();
    const order: string[] = [];
    lock.occupy();
    const before = async () => void order.push("fetch");
    const calls = ["a", "b"].map((n) => holds.run("repo", { signal: undefined, what: "add", hold: lock.hold, before }, async () => void order.push(n)));
    lock.free();
    await Promise.all(calls);
    expect(order).toEqual(["fetch", "a", "b"]);
    const failing = async () => {
      throw new Error("fetch failed: check the token");
    };
    await expect(holds.run("repo", { signal: undefined, what: "add", hold: lock.hold, before: failing }, async () => void order.push("c"))).rejects.toThrow(/check the token/);
    expect(order).toEqual(["fetch", "a", "b"]);
  });

  it("a caller that aborts before the hold never runs its work; the others still do", async () => {
    const holds = new BatchedHolds();
    const lock = recordingLock();
    lock.occupy();
    const ran: string[] = [];
    const stop = new AbortController();
    const aborted = holds.run("repo", { signal: stop.signal, what: "add", hold: lock.hold }, async () => void ran.push("aborted one"));
    const kept = holds.run("repo", { signal: undefined, what: "add", hold: lock.hold }, async () => void ran.push("kept one"));
    stop.abort(new Error("job cancelled"));
    await expect(aborted).rejects.toMatchObject({ name: "AbortError" });
    lock.free();
    await kept;
    expect(ran).toEqual(["kept one"]);
  });

  it("a caller that aborts while its own work finishes in the hold gets that work's result, so it can clean up", async () => {
    const holds = new BatchedHolds();
    const lock = recordingLock();
    const stop = new AbortController();
    let finishOther!: () => void;
    const other = holds.run("repo", { signal: undefined, what: "add", hold: lock.hold }, () => new Promise<string>((r) => (finishOther = () => r("other"))));
    const mine = holds.run("repo", { signal: stop.signal, what: "add", hold: lock.hold }, async () => "mine");
    await new Promise((r) => setTimeout(r, 10));
    stop.abort(new Error("cancelled"));
    expect(await mine).toBe("mine");
    finishOther();
    expect(await other).toBe("other");
  });

  it("when every caller aborts the hold is given up, and the next caller's work runs alone", async () => {
    const holds = new BatchedHolds();
    const lock = recordingLock();
    lock.occupy();
    const ran: string[] = [];
    const stop = new AbortController();
    const a = holds.run("repo", { signal: stop.signal, what: "add", hold: lock.hold }, async () => void ran.push("a"));
    const b = holds.run("repo", { signal: stop.signal, what: "add", hold: lock.hold }, async () => void ran.push("b"));
    stop.abort(new Error("cancelled"));
    lock.free();
    await expect(Promise.all([a, b])).rejects.toMatchObject({ name: "AbortError" });
    await holds.run("repo", { signal: undefined, what: "add", hold: lock.hold }, async () => void ran.push("c"));
    expect(ran).toEqual(["c"]);
  });

  it("a hold that cannot be taken fails its callers, whose work then never runs", async () => {
    const holds = new BatchedHolds();
    const ran: string[] = [];
    const failing = async () => {
      throw new Error("timed out waiting for the lock file");
    };
    await expect(holds.run("repo", { signal: undefined, what: "add", hold: failing }, async () => void ran.push("a"))).rejects.toThrow(/timed out/);
    const lock = recordingLock();
    await holds.run("repo", { signal: undefined, what: "add", hold: lock.hold }, async () => void ran.push("b"));
    expect(ran).toEqual(["b"]);
  });
});
