import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "../helpers/world.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("AGENT_DAILY_BUDGET_USD", () => {
  it("once today's spend reaches the budget, agent jobs wait and say why", async () => {
    world = await startWorld({ env: { AGENT_DAILY_BUDGET_USD: "1" } });
    const w = world;
    await w.deps.spend.add(1.25);
    const issue = w.newIssue();
    const res = await w.labelIssue(issue);
    const task = await w.waitFor(async () => {
      const t = await w.deps.tasks.get(issue.id);
      return t?.step?.startsWith("waiting: today's agent budget") ? t : null;
    }, "the budget wait");
    expect(task?.state).toBe("queued");
    expect(task?.step).toContain("$1.25 of AGENT_DAILY_BUDGET_USD $1");
    // The step is published before the job is moved to delayed, so wait for the move itself.
    expect(await w.waitFor(async () => (await w.deps.queues.implement.getJob(res.body.jobId as string))?.isDelayed(), "the job to wait delayed")).toBe(true);
    expect(w.anthropic.requests).toHaveLength(0);
    expect(w.linear.store.commentsFor(issue.id)[0]?.body).toContain("resumes after midnight UTC");
  });
});
