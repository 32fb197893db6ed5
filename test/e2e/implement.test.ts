import { afterEach, describe, expect, it } from "vitest";
import type { ScriptedTurn } from "../fakes/anthropic/index.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";
import { bash, edit, say } from "../helpers/turns.js";

const REPORT = `## Summary
greet.txt now says hello, world.
## Files
greet.txt
## Decisions
none
## Open points
none`;

const done = (text = REPORT): ScriptedTurn => say(text);

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("implement: labelled Linear issue → pull request", () => {
  it("runs the agent, pushes the branch, opens the PR and keeps Linear in sync", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([
      edit({ command: "view", path: "/repo/greet.txt" }),
      edit({ command: "create", path: "/repo/greet.txt", file_text: "hello, world\n" }),
      bash("sh check.sh && echo checks-ok"),
      done(),
    ]);

    const res = await w.labelIssue(issue);
    expect(res.status).toBe(200);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");

    // The branch carries the agent's change, committed as the bot.
    expect(await w.remote.branches()).toContain("agent/eng-1");
    expect(await w.remote.show("agent/eng-1", "greet.txt")).toBe("hello, world");
    const [head] = await w.remote.log("agent/eng-1");
    expect(head?.author).toBe("agent-workforce[bot]");
    expect(head?.subject).toBe(`ENG-1: ${issue.title}`);

    // One PR, with the body a reviewer needs.
    const { data: pulls } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all" });
    expect(pulls).toHaveLength(1);
    const pr = pulls[0]!;
    expect(pr.title).toBe(`ENG-1: ${issue.title}`);
    expect(pr.head.ref).toBe("agent/eng-1");
    expect(pr.base.ref).toBe("main");
    expect(pr.draft).toBe(false);
    expect(pr.body).toContain(`[ENG-1](${issue.url})`);
    expect(pr.body).toContain("greet.txt now says hello, world.");
    expect(pr.body).toContain("`sh check.sh` passed");
    expect(pr.body).toMatch(/4 turns · \d+(\.\d)?k? in · \d+(\.\d)?k? out/);
    expect(pr.body).toMatch(/\$\d+\.\d+/);

    // Linear: started state, then In Review; one progress comment edited in place; the PR attached.
    const stored = w.linear.store.getIssue(issue.id)!;
    expect(w.linear.store.workflowStates.get(stored.stateId)?.name).toBe("In Review");
    const movedTo = w.linear.requests
      .filter((r) => r.operationName === "updateIssue")
      .map(
        (r) => w.linear.store.workflowStates.get((r.variables.input as { stateId: string }).stateId)?.name,
      );
    expect(movedTo).toEqual(["In Progress", "In Review"]);
    const comments = w.linear.store.commentsFor(issue.id);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("Pull request open, awaiting review");
    expect(comments[0]?.body).toContain(`[#${pr.number}](${pr.html_url})`);
    expect(w.linear.requests.filter((r) => r.operationName === "updateComment").length).toBeGreaterThan(0);
    const attachments = w.linear.store.attachmentsFor(issue.id);
    expect(attachments.map((a) => a.url)).toEqual([pr.html_url]);

    // The task record knows the PR, usage and cost.
    const task = await w.deps.tasks.get(issue.id);
    expect(task).toMatchObject({
      state: "pr-open",
      repo: { owner: OWNER, name: REPO },
      branch: "agent/eng-1",
      prNumber: pr.number,
      prUrl: pr.html_url,
      attempts: 1,
      turns: 4,
      checks: { command: "sh check.sh", passed: true },
    });
    const sent = w.anthropic.usages;
    expect(task?.usage.output).toBe(sent.reduce((a, u) => a + u.output_tokens, 0));
    expect(task?.usage.cacheRead).toBe(sent.reduce((a, u) => a + u.cache_read_input_tokens, 0));
    expect(task?.usage.cacheRead).toBeGreaterThan(0);
    expect(task?.costUsd).toBeGreaterThan(0);
    expect(await w.deps.tasks.findByPullRequest(OWNER, REPO, pr.number)).toMatchObject({ issueId: issue.id });

    // Prompt caching: the stable prefix and the newest turn carry breakpoints on every request.
    for (const req of w.anthropic.requests) {
      expect(req.body.system[0].cache_control).toEqual({ type: "ephemeral" });
      expect(req.body.messages[0].content[0].cache_control).toEqual({ type: "ephemeral" });
      expect(req.body.messages.at(-1).content.at(-1).cache_control).toEqual({ type: "ephemeral" });
      expect(req.body.tools.map((t: { type: string }) => t.type)).toEqual([
        "text_editor_20250728",
        "bash_20250124",
      ]);
    }
    expect(w.anthropic.requests[0]?.body.messages[0].content[0].text).toContain(issue.title);
  });
});
