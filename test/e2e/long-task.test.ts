import { afterEach, describe, expect, it } from "vitest";
import { totalTokens } from "../fakes/anthropic/cache.js";
import { answerCompaction, cacheReadShare, longTaskTurns } from "../helpers/long-task.js";
import { bash, say } from "../helpers/turns.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

// A task whose tool output is three times the model's context window ends with a pull request:
// the fake refuses any prompt over its window, as the API does.
const WINDOW = 40_000;
let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("a long task through the whole service", () => {
  it("completes with a PR, every request under the window, the trimming recorded on the task", async () => {
    world = await startWorld({
      anthropic: { contextWindow: WINDOW, intercept: answerCompaction },
      env: { AGENT_CONTEXT_WINDOW: String(WINDOW), AGENT_MAX_TURNS: "300", AGENT_BUDGET_USD: "50" },
    });
    const w = world;
    const issue = w.newIssue();
    const turns = longTaskTurns({ window: WINDOW, multiple: 3 });
    w.anthropic.script(turns);

    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string, "implement", 120_000)).toBe("completed");

    expect(await w.remote.show("agent/eng-1", "greet.txt")).toBe("hello, long task");
    const { data: pulls } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all" });
    expect(pulls).toHaveLength(1);
    expect(w.anthropic.pendingTurns()).toBe(0);
    expect(w.anthropic.requests.every((r) => totalTokens(r.body) <= WINDOW)).toBe(true);
    const task = await w.deps.tasks.get(issue.id);
    expect(task?.turns).toBe(turns.length);
    expect(task?.context?.clearings).toBeGreaterThan(0);
    expect(task?.turnStartedAt ?? null).toBeNull();
    const share = cacheReadShare(w.anthropic.usages);
    expect(share).toBeGreaterThanOrEqual(0.9);
  }, 180_000);

  it("sends the repository's thinking and effort from the routing file on every model call", async () => {
    world = await startWorld({
      env: { AGENT_MODEL: "claude-sonnet-5-5" },
      routing: { repos: { [`${OWNER}/${REPO}`]: { checkCommand: "sh check.sh", thinking: "adaptive", effort: "low" } } },
    });
    const w = world;
    w.anthropic.script([bash("echo hello again >> greet.txt"), say("## Summary\nDone.\n## Files\ngreet.txt\n## Decisions\nnone\n## Open points\nnone")]);
    const res = await w.labelIssue(w.newIssue());
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    const calls = w.anthropic.requests.map((r) => [r.body.model, r.body.thinking, r.body.output_config]);
    expect(calls).toEqual([
      ["claude-sonnet-5-5", { type: "adaptive" }, { effort: "low" }],
      ["claude-sonnet-5-5", { type: "adaptive" }, { effort: "low" }],
    ]);
  });
});
