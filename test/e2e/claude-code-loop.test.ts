// The implement → review → revision loop with AGENT_RUNTIME=claude-code: the real `claude` binary
// in the real bubblewrap jail, its model calls through the per-job gateway to the Anthropic fake.
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { userPrompt } from "../fakes/anthropic/claude-code.js";
import type { ScriptedTurn } from "../fakes/anthropic/index.js";
import { reviewSubmitted } from "../fixtures/github-events.js";
import { processesMatching } from "../agent/claude-code/harness.js";
import { REVIEWER } from "../helpers/review.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Request bodies are arbitrary JSON here. */
type Body = any;

// Claude Code names files by absolute path; the worktree's is in the environment block it sends.
const inWorktree = (body: Body, file: string) => {
  const dir = /Primary working directory: ([^\s\\]+)/.exec(JSON.stringify(body.messages))?.[1];
  if (!dir) throw new Error("no working directory in the request");
  return path.join(dir, file);
};
const call = (name: string, input: (body: Body) => Record<string, unknown>) => (body: Body): ScriptedTurn => ({
  content: [{ type: "tool_use", name, input: input(body) }],
});
const say = (text: string): ScriptedTurn => ({ content: [{ type: "text", text }] });

const REPORT = "## Summary\nGreeting updated to hello, world.\n## Files\ngreet.txt\n## Decisions\nKept it lowercase.\n## Open points\nnone";

describe("review loop with AGENT_RUNTIME=claude-code", () => {
  it("implement → changes requested → revision, Claude Code in the jail, only loopback traffic", async () => {
    world = await startWorld({ env: { AGENT_RUNTIME: "claude-code", REVISION_DEBOUNCE_MS: "200" } });
    const w = world;
    expect(w.deps.clients?.runner.name).toBe("claude-code");
    w.github.setPermission(OWNER, REPO, REVIEWER.login, "write");

    // Implement: Read (Claude Code edits only files it has read), Edit, the report.
    const issue = w.newIssue();
    w.anthropic.script([
      call("Read", (b) => ({ file_path: inWorktree(b, "greet.txt") })),
      call("Edit", (b) => ({ file_path: inWorktree(b, "greet.txt"), old_string: "hello", new_string: "hello, world" })),
      say(REPORT),
    ]);
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string, "implement", 30_000)).toBe("completed");
    const task = await w.deps.tasks.get(issue.id);
    const pr = task?.prNumber as number;
    expect(task).toMatchObject({ state: "pr-open", turns: 3, checks: { passed: true } });
    expect(task?.handoff).toContain("Kept it lowercase.");
    expect(await w.remote.show("agent/eng-1", "greet.txt")).toBe("hello, world");
    const { data: opened } = await w.octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: pr });
    expect(opened.body).toContain("Greeting updated to hello, world.");
    const firstRequests = w.anthropic.requests.length;

    // Changes requested: a revision in a fresh Claude Code session, from the hand-off note.
    w.anthropic.script([
      call("Read", (b) => ({ file_path: inWorktree(b, "greet.txt") })),
      call("Write", (b) => ({ file_path: inWorktree(b, "greet.txt"), content: "hello, World!\n" })),
      say("## Summary\nCapitalised World and added an exclamation mark.\n## Files\ngreet.txt\n## Decisions\nnone\n## Open points\nnone"),
    ]);
    const ask = "Capitalise World, and add an exclamation mark.";
    const review = w.github.addReview(OWNER, REPO, pr, { user: REVIEWER.login, state: "CHANGES_REQUESTED", body: ask });
    const sent = await w.sendGitHub("pull_request_review", reviewSubmitted({ owner: OWNER, repo: REPO, pr, id: review.id, state: "changes_requested", body: ask, by: REVIEWER }));
    expect(sent.status).toBe(202);
    await w.waitFor(async () => (await w.deps.queues.revise.getJobCounts("completed")).completed === 1, "the revision", 30_000);
    expect(await w.remote.show("agent/eng-1", "greet.txt")).toBe("hello, World!");
    const log = await w.remote.log("agent/eng-1");
    expect(log[0]?.subject).toBe("ENG-1: address review feedback");

    // The revision started from the hand-off note and the diff, not the first transcript.
    const revisionStart = w.anthropic.requests[firstRequests]?.body;
    const prompt = userPrompt(revisionStart);
    expect(prompt).toContain("Kept it lowercase.");
    expect(prompt).toContain(ask);
    expect(prompt).toMatch(/diff --git a\/greet.txt b\/greet.txt/);
    expect(JSON.stringify(revisionStart.messages)).not.toContain("tool_result");

    // Ledger: every model call booked with its real output count.
    const done = await w.deps.tasks.get(issue.id);
    expect(done).toMatchObject({ state: "pr-open", turns: 6 });
    expect(done?.usage.output).toBe(w.anthropic.usages.reduce((a, u) => a + u.output_tokens, 0));
    expect(done?.costUsd).toBeGreaterThan(0);

    // Traffic: every request the fake saw came from Claude Code over loopback, offering only the
    // service's tool list; no request carried the real key into the jail's side, and the sandbox
    // proxy refused nothing (nothing tried to leave).
    expect(w.anthropic.log.length).toBeGreaterThanOrEqual(6);
    for (const r of w.anthropic.log) {
      expect(r.remoteAddress).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
      expect(r.claudeCode).toBe(true);
    }
    const offered = new Set(w.anthropic.log.flatMap((r) => r.tools));
    expect([...offered].sort()).toEqual(["Bash", "Edit", "Glob", "Grep", "Read", "Write"]);
    expect(w.logs.some((l) => l.includes("sandbox egress refused"))).toBe(false);
    expect(w.logs.some((l) => l.includes(w.anthropic.apiKey))).toBe(false);
  }, 60_000);

  it("removing the label stops Claude Code within 2 s: its jail is gone, nothing is pushed", async () => {
    world = await startWorld({ env: { AGENT_RUNTIME: "claude-code" } });
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([
      call("Read", (b) => ({ file_path: inWorktree(b, "greet.txt") })),
      call("Edit", (b) => ({ file_path: inWorktree(b, "greet.txt"), old_string: "hello", new_string: "hello, world" })),
      // (Claude Code refuses a standalone sleep.)
      call("Bash", () => ({ command: "echo working && sleep 43.5", description: "a long command" })),
      say("never said"),
    ]);
    const res = await w.labelIssue(issue);
    await w.waitFor(() => processesMatching("sleep 43.5").length > 0, "the long command to run", 30_000);
    const started = Date.now();
    expect((await w.unlabelIssue(issue)).body).toMatchObject({ intent: "cancel" });
    await w.waitFor(() => processesMatching("sleep 43.5").length === 0 && processesMatching(w.dataDir).length === 0, "the jail to be gone", 2_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("failed");
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "stopped" });
    expect(await w.remote.branches()).toEqual(["main"]);
    expect(w.anthropic.pendingTurns()).toBe(1);
  }, 60_000);
});
