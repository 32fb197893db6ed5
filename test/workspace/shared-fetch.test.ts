import { describe, expect, it } from "vitest";
import { SharedRuns } from "../../src/workspace/shared-fetch.js";

/** A run that starts when `begin` is called and ends when `finish` is, recording its signal. */
function gatedRun() {
  const seen: { signal?: AbortSignal; starts: number; settled: boolean } = { starts: 0, settled: false };
  let begin!: () => void;
  let finish!: () => void;
  const gate = new Promise<void>((r) => (begin = r));
  const done = new Promise<void>((r) => (finish = r));
  const start = async (signal: AbortSignal, started: () => void) => {
    seen.signal = signal;
    seen.starts += 1;
    await gate;
    started();
    // Ends on finish, or as soon as its own signal fires (as git killed by the signal would).
    await Promise.race([done, new Promise<void>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))]);
    seen.settled = true;
  };
  return { seen, start, begin: () => begin(), finish: () => finish() };
}

describe("SharedRuns", () => {
  it("callers arriving before the run starts share it; a caller after it started gets its own", async () => {
    const runs = new SharedRuns();
    const first = gatedRun();
    const a = runs.join("k", undefined, "fetch", first.start);
    const b = runs.join("k", undefined, "fetch", () => Promise.reject(new Error("must not start a second run")));
    first.begin();
    await new Promise((r) => setImmediate(r));
    const second = gatedRun();
    const c = runs.join("k", undefined, "fetch", second.start);
    first.finish();
    await Promise.all([a, b]);
    expect(first.seen.starts).toBe(1);
    expect(second.seen.starts).toBe(1);
    second.begin();
    second.finish();
    await c;
  });

  it("one caller's abort leaves the run going for the others", async () => {
    const runs = new SharedRuns();
    const run = gatedRun();
    const stop = new AbortController();
    const a = runs.join("k", stop.signal, "the fetch", run.start);
    const b = runs.join("k", undefined, "the fetch", run.start);
    stop.abort(new Error("job cancelled"));
    await expect(a).rejects.toMatchObject({ name: "AbortError" });
    expect(run.seen.signal?.aborted).toBe(false);
    run.begin();
    run.finish();
    await b;
    expect(run.seen.settled).toBe(true);
  });

  it("when every caller aborts, the run is aborted and the last caller returns only once it settled", async () => {
    const runs = new SharedRuns();
    const run = gatedRun();
    const one = new AbortController();
    const two = new AbortController();
    const a = runs.join("k", one.signal, "the fetch", run.start);
    const b = runs.join("k", two.signal, "the fetch", run.start);
    run.begin();
    one.abort(new Error("first job cancelled"));
    await expect(a).rejects.toMatchObject({ name: "AbortError" });
    expect(run.seen.signal?.aborted).toBe(false);
    let settledWhenRejected: boolean | undefined;
    two.abort(new Error("second job cancelled"));
    await b.catch(() => (settledWhenRejected = run.seen.signal?.aborted === true));
    expect(settledWhenRejected).toBe(true);
    // A caller after the abandoned run queues a new one rather than joining the aborted one.
    const next = gatedRun();
    const c = runs.join("k", undefined, "the fetch", next.start);
    next.begin();
    next.finish();
    await c;
    expect(next.seen.starts).toBe(1);
  });

  it("an already aborted caller starts nothing", async () => {
    const runs = new SharedRuns();
    const stop = new AbortController();
    stop.abort(new Error("job cancelled"));
    let started = 0;
    await expect(
      runs.join("k", stop.signal, "the fetch", async () => {
        started += 1;
      }),
    ).rejects.toThrow(/aborted/);
    expect(started).toBe(0);
  });

  it("a failed run rejects every caller and the next caller queues a fresh run", async () => {
    const runs = new SharedRuns();
    const failing = async (_signal: AbortSignal, started: () => void) => {
      started();
      throw new Error("fetch failed: check the token");
    };
    await expect(Promise.all([runs.join("k", undefined, "f", failing), runs.join("k", undefined, "f", failing)])).rejects.toThrow(/check the token/);
    let ran = 0;
    await runs.join("k", undefined, "f", async (_s, started) => {
      started();
      ran += 1;
    });
    expect(ran).toBe(1);
  });
});
