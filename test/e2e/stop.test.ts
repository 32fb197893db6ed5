import { afterEach, describe, expect, it } from "vitest";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("stopping an agent", () => {
  it("removing the label mid-run stops the agent at once; nothing is pushed; Linear says it stopped", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([
      { content: [{ type: "tool_use", name: "str_replace_based_edit_tool", input: { command: "create", path: "greet.txt", file_text: "hello, world\n" } }] },
      { content: [{ type: "tool_use", name: "bash", input: { command: "sleep 20" } }] },
    ]);
    const res = await w.labelIssue(issue);
    await w.waitFor(async () => w.anthropic.requests.length >= 2, "the agent to start its long command");
    const started = Date.now();
    const cancel = await w.unlabelIssue(issue);
    expect(cancel.body).toMatchObject({ status: "accepted", intent: "cancel" });
    expect(await w.waitForJob(res.body.jobId as string)).toBe("failed");
    expect(Date.now() - started).toBeLessThan(5_000);

    expect(w.anthropic.requests).toHaveLength(2);
    expect(w.anthropic.pendingTurns()).toBe(0);
    expect(await w.remote.branches()).toEqual(["main"]);
    const { data: pulls } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all" });
    expect(pulls).toHaveLength(0);
    const task = await w.deps.tasks.get(issue.id);
    expect(task).toMatchObject({ state: "stopped", error: "Stopped: the agent label was removed." });
    const comments = w.linear.store.commentsFor(issue.id);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("Agent: Stopped");
    expect(comments[0]?.body).toContain("Re-add the `agent` label to try again.");
    // The worktree is gone.
    expect(await w.deps.workspace.listWorktrees()).toEqual([]);

    // Re-adding the label starts a new attempt that runs to a PR.
    w.anthropic.script([
      { content: [{ type: "tool_use", name: "str_replace_based_edit_tool", input: { command: "create", path: "greet.txt", file_text: "hello, world\n" } }] },
      { content: [{ type: "text", text: "## Summary\nDone this time." }] },
    ]);
    await new Promise((r) => setTimeout(r, 5));
    const again = await w.labelIssue(issue);
    const state = await w.waitForJob(again.body.jobId as string);
    expect(state, JSON.stringify(await w.deps.tasks.get(issue.id))).toBe("completed");
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", attempts: 2 });
  });

  it("a label removed and added straight back stops the run and starts exactly one new one", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([
      { content: [{ type: "tool_use", name: "bash", input: { command: "sleep 20" } }] },
      { content: [{ type: "tool_use", name: "str_replace_based_edit_tool", input: { command: "create", path: "greet.txt", file_text: "hello, world\n" } }] },
      { content: [{ type: "text", text: "## Summary\nDone on the second try." }] },
    ]);
    const res = await w.labelIssue(issue);
    await w.waitFor(async () => w.anthropic.requests.length >= 1, "the agent to start its long command");
    await w.unlabelIssue(issue);
    // Re-added while the first run is still being stopped.
    await new Promise((r) => setTimeout(r, 5));
    const again = await w.labelIssue(issue);
    expect(again.status).toBe(200);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("failed");
    await w.waitFor(async () => (await w.deps.queues.implement.getJobCounts("completed")).completed === 1, "the follow-up run");
    expect(await w.deps.queues.implement.getJobCounts("completed", "failed", "active", "waiting", "delayed")).toMatchObject({
      completed: 1,
      failed: 1,
      active: 0,
      waiting: 0,
      delayed: 0,
    });
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", attempts: 2 });
    expect(await w.remote.show("agent/eng-1", "greet.txt")).toBe("hello, world");
  });
});
