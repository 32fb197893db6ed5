import { describe, expect, it } from "vitest";
import { planJob } from "../../webhooks/enqueue.js";
import { mapLinearEvent } from "../../webhooks/linear-intents.js";
import { AGENT_LABEL, BUG_LABEL, linearIssuePayload } from "../fixtures/linear.js";

const ctx = { delivery: "d-1", receivedAt: "2026-11-21T00:00:00.000Z" };
const map = (p: ReturnType<typeof linearIssuePayload>, label = "agent") => mapLinearEvent(p, label, ctx);

describe("mapLinearEvent", () => {
  it("an issue created with the agent label becomes an implement intent carrying the issue", () => {
    const p = linearIssuePayload("create", { labels: [AGENT_LABEL] });
    const d = map(p);
    expect(d.act).toBe(true);
    if (!d.act || d.intent.kind !== "implement") throw new Error("expected implement");
    expect(d.intent.data).toMatchObject({
      issueId: p.data.id,
      identifier: "ENG-42",
      title: p.data.title,
      teamKey: "ENG",
      labelNames: ["agent"],
      eventAt: p.data.updatedAt,
      source: { delivery: "d-1", actor: "Ada Lovelace" },
    });
  });

  it("matches the label name case-insensitively and honours a custom AGENT_LABEL", () => {
    const p = linearIssuePayload("create", { labels: [{ ...AGENT_LABEL, name: "AI-Agent" }] });
    expect(map(p, "ai-agent").act).toBe(true);
    expect(map(p, "agent").act).toBe(false);
  });

  it("an issue created without the label is ignored with a reason", () => {
    const d = map(linearIssuePayload("create", { labels: [BUG_LABEL] }));
    expect(d).toEqual({ act: false, reason: 'issue created without the "agent" label' });
  });

  it("an update that newly adds the label is an implement intent", () => {
    const p = linearIssuePayload("update", {
      labels: [BUG_LABEL, AGENT_LABEL],
      updatedFrom: { labelIds: [BUG_LABEL.id], updatedAt: "2026-11-20T10:00:00.000Z" },
    });
    const d = map(p);
    expect(d.act && d.intent.kind).toBe("implement");
  });

  it("an update to a labelled issue that had the label before is not a new intent", () => {
    const p = linearIssuePayload("update", {
      labels: [BUG_LABEL, AGENT_LABEL],
      updatedFrom: { labelIds: [AGENT_LABEL.id] },
    });
    expect(map(p).act).toBe(false);
    const titleEdit = linearIssuePayload("update", { labels: [AGENT_LABEL], updatedFrom: { title: "old" } });
    expect(map(titleEdit)).toEqual({ act: false, reason: "issue update does not change the agent's work" });
  });

  it("an update that removes the label is a cancel intent", () => {
    const p = linearIssuePayload("update", {
      labels: [BUG_LABEL],
      updatedFrom: { labelIds: [BUG_LABEL.id, AGENT_LABEL.id] },
    });
    const d = map(p);
    if (!d.act || d.intent.kind !== "cancel") throw new Error("expected cancel");
    expect(d.intent.data).toMatchObject({
      issueId: p.data.id,
      identifier: "ENG-42",
      reason: "label-removed",
    });
  });

  it("adding an unrelated label to an unlabelled issue is ignored", () => {
    const p = linearIssuePayload("update", { labels: [BUG_LABEL], updatedFrom: { labelIds: [] } });
    expect(map(p)).toEqual({ act: false, reason: 'issue has no "agent" label' });
  });

  it("a labelled issue moved to a canceled or completed state is a cancel intent", () => {
    for (const [type, reason] of [
      ["canceled", "issue-canceled"],
      ["completed", "issue-completed"],
    ]) {
      const p = linearIssuePayload("update", {
        labels: [AGENT_LABEL],
        state: { id: "s", name: type as string, type: type as string, color: "#000" },
        updatedFrom: { stateId: "previous" },
      });
      const d = map(p);
      expect(d.act && d.intent.kind === "cancel" && d.intent.data.reason).toBe(reason);
    }
    const started = linearIssuePayload("update", {
      labels: [AGENT_LABEL],
      state: { id: "s", name: "In Progress", type: "started", color: "#000" },
      updatedFrom: { stateId: "previous" },
    });
    expect(map(started).act).toBe(false);
  });

  it("other entity types are ignored", () => {
    const p = { ...linearIssuePayload("create", { labels: [AGENT_LABEL] }), type: "Project" };
    expect(map(p as never)).toEqual({ act: false, reason: "Linear Project events are not acted on" });
  });

  it("job ids derive from the issue and the event, and implement jobs dedupe per issue", () => {
    const p = linearIssuePayload("create", { labels: [AGENT_LABEL], updatedAt: "2026-11-21T08:00:00.000Z" });
    const d = map(p);
    if (!d.act) throw new Error("expected intent");
    const plan = planJob(d.intent);
    expect(plan.queue).toBe("implement");
    expect(plan.jobId).toBe(`implement-${p.data.id}-${Date.parse("2026-11-21T08:00:00.000Z")}`);
    expect(plan.jobId).not.toContain(":");
    expect(plan.opts.deduplication).toEqual({ id: `implement-${p.data.id}`, keepLastIfActive: true });
    // The same event delivered again maps to the same job.
    expect(planJob((map(structuredClone(p)) as { intent: typeof d.intent }).intent).jobId).toBe(plan.jobId);
  });
});
