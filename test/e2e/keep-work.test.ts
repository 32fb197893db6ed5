// Work is never thrown away, and never paid for twice: a run that fails after the agent changed
// files commits them (pushed when the push can succeed, kept otherwise), the task and Linear show
// the real cause, and the next run starts from the work instead of redoing it.
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ScriptedTurn } from "../fakes/anthropic/index.js";
import { create, say } from "../helpers/turns.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

const REPORT = "## Summary\nGreets the world.\n## Files\ngreet.txt\n## Decisions\nnone\n## Open points\nnone";
const outage: ScriptedTurn = { error: { status: 500, type: "api_error", message: "Internal server error" } };

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const pulls = async (w: World) => (await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all" })).data;

describe("work is kept on every failure", () => {
  it("an Anthropic outage mid-run pushes the work as WIP, and the retry continues from it with a hand-off note", async () => {
    world = await startWorld({ env: { AGENT_MAX_TURNS: "10" } });
    const w = world;
    const issue = w.newIssue();
    // One edit, then the API fails on every retry the SDK makes; the job's retry then finishes.
    w.anthropic.script([create("greet.txt", "hello, world\n"), outage, outage, outage, outage, outage, say(REPORT)]);
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string, "implement", 60_000)).toBe("completed");

    const log = await w.remote.log("agent/eng-1");
    expect(log.map((c) => c.subject)).toContainEqual(expect.stringMatching(/^WIP: ENG-1: .*\(interrupted by .*500/));
    expect(await w.remote.show("agent/eng-1", "greet.txt")).toBe("hello, world");
    // The retry's first request carries the note, and the agent did not make the edit again.
    const resumed = w.anthropic.requests.at(-1)?.body.messages[0];
    expect(JSON.stringify(resumed)).toContain("A previous run on this issue was interrupted");
    expect(JSON.stringify(resumed)).toContain("committed as WIP and pushed to agent/eng-1");
    expect(await pulls(w)).toHaveLength(1);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", attempts: 1 });
  }, 90_000);

  it("a push the remote refuses shows its real cause, keeps the commit, and pushes it later without running the agent again", async () => {
    world = await startWorld();
    const w = world;
    const hook = path.join(w.remote.dir, "hooks", "pre-receive");
    const reason = "refusing to allow a GitHub App to create or update workflow `.github/workflows/ci.yml` without `workflows` permission";
    await writeFile(hook, `#!/bin/sh\necho "${reason.replaceAll("`", "\\`")}" >&2\nexit 1\n`, { mode: 0o755 });
    const issue = w.newIssue();
    w.anthropic.script([create("greet.txt", "hello, world\n"), say(REPORT)]);
    const first = await w.labelIssue(issue);
    expect(await w.waitForJob(first.body.jobId as string, "implement", 60_000)).toBe("failed");

    const failed = await w.deps.tasks.get(issue.id);
    expect(failed?.state).toBe("failed");
    expect(failed?.error).toMatch(/^push rejected: refusing to allow a GitHub App to create or update workflow/);
    expect(failed?.error).not.toMatch(/budget/i);
    expect(w.linear.store.commentsFor(issue.id)[0]?.body).toContain("push rejected: refusing to allow a GitHub App");
    expect(failed?.landed).toMatchObject({ pushed: false });
    expect(await w.remote.branches()).not.toContain("agent/eng-1");
    const requests = w.anthropic.requests.length;
    expect(requests).toBe(2);

    // The permission is fixed; the label is added again: the kept commit is pushed as it is.
    await rm(hook);
    const cancel = await w.unlabelIssue(issue);
    expect(await w.waitForJob(cancel.body.jobId as string, "lifecycle")).toBe("completed");
    const again = await w.labelIssue(issue);
    expect(await w.waitForJob(again.body.jobId as string, "implement", 60_000)).toBe("completed");
    expect(w.anthropic.requests).toHaveLength(requests);
    expect(await w.remote.show("agent/eng-1", "greet.txt")).toBe("hello, world");
    const [pr] = await pulls(w);
    expect(pr?.body).toContain("Greets the world.");
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", error: null });
  }, 90_000);
});

describe("what the task shows", () => {
  it("shows the checks running as its own state", async () => {
    world = await startWorld({ routing: { repos: { [`${OWNER}/${REPO}`]: { checkCommand: "sleep 1; sh check.sh" } } } });
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([create("greet.txt", "hello, world\n"), say(REPORT)]);
    const res = await w.labelIssue(issue);
    const seen = await w.waitFor(async () => (await w.deps.tasks.get(issue.id))?.state === "checking", "the task in the checking state");
    expect(seen).toBe(true);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", checks: { passed: true } });
  });

  it("puts a question the agent ends with, having changed nothing, in front of a person", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([say("The issue says 'greet', but whom?\nShould the greeting be formal or casual?")]);
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    const task = await w.deps.tasks.get(issue.id);
    expect(task).toMatchObject({ state: "stopped", error: null });
    expect(task?.question).toContain("Should the greeting be formal or casual?");
    const comments = w.linear.store.commentsFor(issue.id).map((c) => c.body);
    expect(comments.some((b) => b.includes("The agent has a question") && b.includes("> Should the greeting be formal or casual?"))).toBe(true);
    expect(await pulls(w)).toHaveLength(0);
  });
});
