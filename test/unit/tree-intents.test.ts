import { describe, expect, it } from "vitest";
import { planJob } from "../../webhooks/enqueue.js";
import { mapLinearEvent } from "../../webhooks/linear-intents.js";
import { AGENT_LABEL, linearIssuePayload } from "../fixtures/linear.js";

// Issue webhooks about sub-issues become ticks of their parents (which read the tree from Linear).

const ctx = { delivery: "d-1", receivedAt: "2026-12-03T00:00:00.000Z" };
const map = (p: ReturnType<typeof linearIssuePayload>) => mapLinearEvent(p, "agent", ctx);
const PARENT = "11111111-0000-4000-8000-000000000001";
const OTHER = "22222222-0000-4000-8000-000000000002";

describe("Issue webhooks about sub-issues", () => {
  it("a sub-issue moved to another parent ticks the new parent and names the old one", () => {
    const payload = linearIssuePayload("update", { parentId: PARENT, updatedFrom: { parentId: OTHER } });
    const d = map(payload);
    if (!d.act || d.intent.kind !== "tree-tick") throw new Error(`expected a tree tick, got ${JSON.stringify(d)}`);
    expect(d.intent.data).toMatchObject({ kind: "tick", parentIssueId: PARENT, otherParentIssueId: OTHER, linear: true });
    const plan = planJob(d.intent);
    expect(plan).toMatchObject({ queue: "lifecycle", name: "tick", opts: { deduplication: { id: `tick-linear-${PARENT}`, keepLastIfActive: true } } });
    // A redelivery maps to the same job id.
    const again = map(structuredClone(payload));
    expect(again.act && planJob(again.intent).jobId).toBe(plan.jobId);
  });

  it("a sub-issue taken out of its parent ticks the parent it left", () => {
    const d = map(linearIssuePayload("update", { parentId: null, updatedFrom: { parentId: PARENT } }));
    expect(d).toMatchObject({ act: true, intent: { kind: "tree-tick", data: { parentIssueId: PARENT } } });
  });

  it("an unlabelled sub-issue created, cancelled, renamed or deleted ticks its parent", () => {
    for (const p of [
      linearIssuePayload("create", { parentId: PARENT }),
      linearIssuePayload("update", { parentId: PARENT, updatedFrom: { stateId: "s-old" }, state: { id: "s-c", name: "Canceled", type: "canceled", color: "#000" } }),
      linearIssuePayload("update", { parentId: PARENT, updatedFrom: { title: "Old title" } }),
      linearIssuePayload("remove", { parentId: PARENT }),
    ]) {
      expect(map(p)).toMatchObject({ act: true, intent: { kind: "tree-tick", data: { parentIssueId: PARENT, linear: true } } });
    }
  });

  it("a labelled sub-issue's cancel stays a cancel (the cancel ticks the parent); other edits and top-level issues tick nothing", () => {
    const cancelled = linearIssuePayload("update", { labels: [AGENT_LABEL], parentId: PARENT, updatedFrom: { stateId: "s-old" }, state: { id: "s-c", name: "Canceled", type: "canceled", color: "#000" } });
    expect(map(cancelled)).toMatchObject({ act: true, intent: { kind: "cancel" } });
    expect(map(linearIssuePayload("update", { parentId: PARENT, updatedFrom: { priority: 2 } })).act).toBe(false);
    expect(map(linearIssuePayload("update", { updatedFrom: { stateId: "s-old" } })).act).toBe(false);
  });
});
