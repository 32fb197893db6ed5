import { afterEach, describe, expect, it } from "vitest";
import type { ScriptedTurn } from "../fakes/anthropic/index.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const create: ScriptedTurn = {
  content: [{ type: "tool_use", name: "str_replace_based_edit_tool", input: { command: "create", path: "greet.txt", file_text: "hello, world\n" } }],
};
const done: ScriptedTurn = { content: [{ type: "text", text: "## Summary\nDone." }] };

describe("upstream limits and faults", () => {
  it("GitHub secondary rate limits and Linear RATELIMITED answers are waited out, and the job still lands", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([create, done]);
    w.github.failNext(2, "secondary-rate-limit", { retryAfterSeconds: 1 });
    w.linear.failNext(2, "ratelimited", { retryAfterSeconds: 1 });
    const started = Date.now();
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string, "implement", 30_000)).toBe("completed");
    // Both waits were honoured (retry-after: 1 s each, twice).
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    const { data: pulls } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all" });
    expect(pulls).toHaveLength(1);
    expect(w.linear.store.commentsFor(issue.id)).toHaveLength(1);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", attempts: 1 });
  });

  it("Anthropic 429 and 529 are retried honouring retry-after", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([
      { error: { status: 429, type: "rate_limit_error", message: "Number of request tokens has exceeded your per-minute rate limit", retryAfterSeconds: 1 } },
      { error: { status: 529, type: "overloaded_error", message: "Overloaded", retryAfterSeconds: 0 } },
      create,
      done,
    ]);
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string, "implement", 30_000)).toBe("completed");
    expect(w.anthropic.requests).toHaveLength(4);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", turns: 2 });
  });

  it("a spend-limit refusal is not retried and fails the job with a message a person can act on", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([
      { error: { status: 429, type: "rate_limit_error", message: "Your credit balance is too low to access the Anthropic API." } },
      create,
      done,
    ]);
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string, "implement", 30_000)).toBe("failed");
    expect(w.anthropic.requests).toHaveLength(1);
    const task = await w.deps.tasks.get(issue.id);
    expect(task?.state).toBe("failed");
    expect(task?.error).toMatch(/billing reasons.*credit balance is too low.*Anthropic console/);
    const comment = w.linear.store.commentsFor(issue.id)[0]?.body ?? "";
    expect(comment).toContain("Agent: Failed");
    expect(comment).toContain("Anthropic console");
    expect(comment).toContain("Re-add the `agent` label to try again.");
    const job = await w.deps.queues.implement.getJob(res.body.jobId as string);
    expect(job?.attemptsMade).toBe(1);
  });
});
