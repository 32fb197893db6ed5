import { describe, expect, it } from "vitest";
import { LocalSlots } from "../../src/tasks/local-slots.js";

describe("a worker process's agent slots", () => {
  it("wake the job that waited longest when a slot frees, once", () => {
    const slots = new LocalSlots(1);
    const release = slots.tryAcquire("implement:a");
    expect(release).not.toBeNull();
    expect(slots.tryAcquire("implement:b")).toBeNull();
    expect(slots.tryAcquire("revise:c")).toBeNull();
    // Refused again while waiting: it keeps its place.
    expect(slots.tryAcquire("implement:b")).toBeNull();
    expect(slots.asleep("implement:b")).toBe(false);
    expect(slots.asleep("revise:c")).toBe(false);
    expect(slots.waiting).toBe(2);

    release?.();
    release?.();
    expect(slots.inUse).toBe(0);
    expect(slots.wakeNext()).toEqual({ key: "implement:b", asleep: true });
    expect(slots.wakeNext()).toEqual({ key: "revise:c", asleep: true });
    expect(slots.wakeNext()).toBeNull();
  });

  it("a job woken while still on its way to sleep learns it must wake itself", () => {
    const slots = new LocalSlots(1);
    const release = slots.tryAcquire("implement:a");
    expect(slots.tryAcquire("implement:b")).toBeNull();
    release?.();
    // The releaser gets there before the refused job went to sleep.
    expect(slots.wakeNext()).toEqual({ key: "implement:b", asleep: false });
    expect(slots.asleep("implement:b")).toBe(true);
    expect(slots.waiting).toBe(0);
    expect(slots.wakeNext()).toBeNull();
  });

  it("a waiter that gets a slot leaves the line", () => {
    const slots = new LocalSlots(1);
    const release = slots.tryAcquire("implement:a");
    expect(slots.tryAcquire("implement:b")).toBeNull();
    release?.();
    expect(slots.tryAcquire("implement:b")).not.toBeNull();
    expect(slots.waiting).toBe(0);
    expect(slots.wakeNext()).toBeNull();
  });
});
