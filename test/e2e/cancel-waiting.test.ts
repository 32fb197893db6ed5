import { afterEach, describe, expect, it } from "vitest";
import type { FakeIssue } from "../fakes/linear/index.js";
import { linearIssuePayload } from "../fixtures/linear.js";
import { LINEAR_SECRET } from "../helpers/config.js";
import { signLinear } from "../helpers/sign.js";
import { bash, create, say } from "../helpers/turns.js";
import { startWorld, type World } from "../helpers/world.js";

// A cancel for an issue whose job has not started yet, and an issue that is already closed in
// Linear when its job starts.

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** The team's workflow state of `type` in the Linear fake. */
function stateOf(w: World, type: "canceled" | "completed") {
  const state = [...w.linear.store.workflowStates.values()].find((s) => s.teamId === w.team.id && s.type === type);
  if (!state) throw new Error(`the fake team has no ${type} state`);
  return state;
}

/** Moves the issue to Canceled in Linear, label kept, and sends the signed webhook saying so. */
async function cancelInLinear(w: World, issue: FakeIssue) {
  const stored = w.linear.store.getIssue(issue.id)!;
  const from = stored.stateId;
  const canceled = stateOf(w, "canceled");
  stored.stateId = canceled.id;
  stored.updatedAt = new Date().toISOString();
  const body = JSON.stringify(
    linearIssuePayload("update", {
      issueId: issue.id,
      identifier: issue.identifier,
      title: issue.title,
      team: { id: w.team.id, key: w.team.key, name: w.team.name },
      labels: [{ id: w.agentLabel.id, name: w.agentLabel.name, color: w.agentLabel.color }],
      state: { id: canceled.id, name: canceled.name, type: canceled.type, color: canceled.color },
      updatedFrom: { stateId: from, updatedAt: stored.updatedAt },
      updatedAt: stored.updatedAt,
    }),
  );
  const res = await w.app.inject({
    method: "POST",
    url: "/webhooks/linear",
    payload: body,
    headers: { "content-type": "application/json", "linear-signature": signLinear(LINEAR_SECRET, body) },
  });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

describe("cancelling before the agent starts", () => {
  it("a cancel removes the issue's job that waits for an agent slot, and no agent runs for it", async () => {
    world = await startWorld({ env: { AGENT_CONCURRENCY: "1" } });
    const w = world;
    // The first issue's agent holds the only slot with a long command.
    const busy = w.newIssue({ title: "Keep the slot busy" });
    w.anthropic.script([bash("sleep 20")]);
    const first = await w.labelIssue(busy);
    await w.waitFor(() => w.anthropic.requests.length >= 1, "the first agent to start its long command");

    // Two more issues queue behind it: one loses its label, the other is cancelled in Linear.
    const unlabelled = w.newIssue({ title: "Rename the greeting" });
    const cancelled = w.newIssue({ title: "Translate the greeting" });
    const waiting = [await w.labelIssue(unlabelled), await w.labelIssue(cancelled)].map((r) => r.body.jobId as string);
    for (const id of waiting) expect(await (await w.deps.queues.implement.getJob(id))?.getState()).toBe("waiting");

    const cancels = [await w.unlabelIssue(unlabelled), await cancelInLinear(w, cancelled)];
    expect(cancels.map((c) => c.body)).toMatchObject([
      { status: "accepted", intent: "cancel" },
      { status: "accepted", intent: "cancel" },
    ]);
    for (const c of cancels) expect(await w.waitForJob(c.body.jobId as string, "lifecycle")).toBe("completed");
    for (const c of cancels) {
      const job = await w.deps.queues.lifecycle.getJob(c.body.jobId as string);
      expect(job?.returnvalue).toEqual({ outcome: "waiting job removed" });
    }
    // The waiting jobs are gone, and so is their deduplication, so a new label would start afresh.
    for (const id of waiting) expect(await w.deps.queues.implement.getJob(id)).toBeUndefined();
    for (const issue of [unlabelled, cancelled]) {
      expect(await w.deps.queues.implement.getDeduplicationJobId(`implement-${issue.id}`)).toBeNull();
    }

    // Free the slot; the worker then has nothing left to run.
    await w.unlabelIssue(busy);
    expect(await w.waitForJob(first.body.jobId as string)).toBe("failed");
    await w.waitFor(async () => {
      const counts = await w.deps.queues.implement.getJobCounts("active", "waiting", "delayed");
      return Object.values(counts).every((n) => n === 0);
    }, "the implement queue to drain");
    expect(await w.deps.queues.implement.getJobCounts("completed", "failed")).toEqual({ completed: 0, failed: 1 });
    expect(w.anthropic.requests).toHaveLength(1);
    expect(await w.deps.tasks.get(unlabelled.id)).toBeNull();
    expect(await w.deps.tasks.get(cancelled.id)).toBeNull();
  });

  it("an issue already Canceled or Done when its job starts runs no agent; the task ends stopped and says why", async () => {
    world = await startWorld();
    const w = world;
    // Turns the agent would take, were it started.
    w.anthropic.script([create("greet.txt", "hello, world\n"), say("## Summary\nDone.")]);
    for (const type of ["canceled", "completed"] as const) {
      const issue = w.newIssue({ title: `Greet, but ${type}` });
      const closed = stateOf(w, type);
      w.linear.store.getIssue(issue.id)!.stateId = closed.id;

      const res = await w.labelIssue(issue);
      expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");

      const what = type === "canceled" ? "cancelled" : "completed";
      const reason = `Not started: the issue is ${what} in Linear (${closed.name}). Reopen it before adding the label again.`;
      expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "stopped", error: reason, prNumber: null });
      const comments = w.linear.store.commentsFor(issue.id);
      expect(comments).toHaveLength(1);
      expect(comments[0]?.body).toContain("Agent: Stopped");
      expect(comments[0]?.body).toContain(reason);
      // The issue stays where its people put it.
      expect(w.linear.store.getIssue(issue.id)?.stateId).toBe(closed.id);
      expect(w.anthropic.requests).toHaveLength(0);
    }
    expect(await w.remote.branches()).toEqual(["main"]);
  });
});
