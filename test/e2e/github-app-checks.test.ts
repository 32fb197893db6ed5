import { afterEach, describe, expect, it } from "vitest";
import { prCommentCreated } from "../fixtures/github-events.js";
import { REVIEWER } from "../helpers/review.js";
import { create, say } from "../helpers/turns.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

// With a GitHub App the quality gate is a check run named agent-workforce on the PR head (GitHub
// lets only Apps create them): in progress while a revision works, then success or failure with a
// summary and the failing check's output. The token path's commit status is covered by
// implement.test.ts, review-loop.test.ts and review-loop-ends.test.ts.

const FILES = {
  "greet.txt": "hello\n",
  // The project's checks: greet.txt must say hello, and a failure says what it found.
  "check.sh": '#!/bin/sh\ngrep -q hello greet.txt || { echo "FAIL: greet.txt must say hello, found: $(cat greet.txt)"; exit 1; }\n',
};

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

type Run = { id: number; head_sha: string; name: string; status: string; conclusion: string | null; external_id: string; output: { title: string; summary: string; text: string | null } };

const runsOn = (w: World, sha: string) => (w.github.checkRuns(OWNER, REPO) as unknown as Run[]).filter((r) => r.head_sha === sha && r.name === "agent-workforce");

/** What GitHub shows on the PR: the head, and the latest agent-workforce run there, read through the API. */
async function shown(w: World, pr: number) {
  const { data: pull } = await w.octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: pr });
  const { data } = await w.octokit.rest.checks.listForRef({ owner: OWNER, repo: REPO, ref: pull.head.sha, check_name: "agent-workforce" });
  expect(data.check_runs.length).toBeLessThanOrEqual(1);
  return { head: pull.head.sha, run: data.check_runs[0] };
}

const comment = (w: World, pr: number, id: number, body: string) =>
  w.sendGitHub("issue_comment", prCommentCreated({ owner: OWNER, repo: REPO, pr, id, body, by: REVIEWER }));

const revisions = (w: World) => w.deps.queues.revise.getJobCounts("completed", "failed", "active", "waiting", "delayed");

async function implement(w: World, turns: Parameters<World["anthropic"]["script"]>[0]) {
  w.github.setPermission(OWNER, REPO, REVIEWER.login, "write");
  const issue = w.newIssue({ title: "Greet the world" });
  w.anthropic.script(turns);
  expect(await w.waitForJob((await w.labelIssue(issue)).body.jobId as string)).toBe("completed");
  const task = await w.deps.tasks.get(issue.id);
  return { issue, pr: task?.prNumber as number };
}

describe("the quality gate as a check run (GitHub App)", () => {
  it("a passing implement completes a success run on the PR head; a revision shows in progress, then success on its new head", async () => {
    world = await startWorld({ githubApp: true, files: FILES, env: { REVISION_DEBOUNCE_MS: "50" } });
    const w = world;
    const { issue, pr } = await implement(w, [create("greet.txt", "hello, world\n"), say("## Summary\nGreeting updated.")]);

    const first = await shown(w, pr);
    expect(first.run).toMatchObject({ status: "completed", conclusion: "success", external_id: issue.id, details_url: issue.url });
    expect(first.run?.output.title).toBe("Agent finished; awaiting review");
    expect(first.run?.output.summary).toContain(`pull request #${pr} is ready for review`);
    expect(first.run?.output.summary).toContain("✅ `sh check.sh` passed.");
    expect(first.run?.app?.slug).toBe(w.githubApp?.slug);
    // No commit status on the App path.
    expect(w.github.state.statuses.filter((s) => s.context === "agent-workforce")).toHaveLength(0);

    // A revision: the agent's first command takes a second, so the in-progress run is seen while it works.
    w.anthropic.script([
      { content: [{ type: "tool_use", name: "bash", input: { command: "sleep 1" } }] },
      create("greet.txt", "hello, World!\n"),
      say("## Summary\nCapitalised World."),
    ]);
    await comment(w, pr, 7101, "@agent capitalise World");
    await w.waitFor(() => runsOn(w, first.head).some((r) => r.status === "in_progress"), "the in-progress run on the PR head");
    const working = (await shown(w, pr)).run;
    expect(working).toMatchObject({ status: "in_progress", conclusion: null, external_id: issue.id });
    expect(working?.output.title).toBe("Agent is revising this pull request");
    expect(working?.output.summary).toContain("the agent is addressing 1 piece of feedback.");
    await w.waitFor(async () => (await revisions(w)).completed === 1, "the revision");

    const second = await shown(w, pr);
    expect(second.head).not.toBe(first.head);
    expect(second.run).toMatchObject({ status: "completed", conclusion: "success", external_id: issue.id });
    expect(second.run?.output.title).toBe("Agent revised; awaiting review");
    expect(runsOn(w, second.head)).toHaveLength(1);
    // The old head's runs: the implement's result, and the revision's run completed as superseded.
    expect(runsOn(w, first.head).map((r) => [r.status, r.conclusion, r.output.title])).toEqual([
      ["completed", "success", "Agent finished; awaiting review"],
      ["completed", "neutral", `Superseded by ${second.head.slice(0, 7)}`],
    ]);
    expect(w.github.state.statuses.filter((s) => s.context === "agent-workforce")).toHaveLength(0);
  });

  it("failing checks complete a failure run with the failing check's output; a revision that fixes them succeeds on the new head", async () => {
    world = await startWorld({ githubApp: true, files: FILES, env: { AGENT_CHECK_ROUNDS: "0", REVISION_DEBOUNCE_MS: "50" } });
    const w = world;
    const { pr } = await implement(w, [create("greet.txt", "goodbye\n"), say("## Summary\nChanged the greeting.")]);

    const failed = await shown(w, pr);
    expect(failed.run).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(failed.run?.output.title).toBe("Agent finished; checks still fail");
    expect(failed.run?.output.summary).toContain("❌ `sh check.sh` still fails; its output is below.");
    expect(failed.run?.output.text).toContain("FAIL: greet.txt must say hello, found: goodbye");

    w.anthropic.script([create("greet.txt", "hello, world\n"), say("## Summary\nRestored hello.")]);
    await comment(w, pr, 7201, "@agent the check fails, say hello");
    await w.waitFor(async () => (await revisions(w)).completed === 1, "the revision");
    const fixed = await shown(w, pr);
    expect(fixed.head).not.toBe(failed.head);
    expect(fixed.run).toMatchObject({ status: "completed", conclusion: "success" });
    expect(fixed.run?.output.text ?? null).toBeNull();
  });

  it("a revision that fails while revising completes its in-progress run as a failure saying why", async () => {
    world = await startWorld({ githubApp: true, files: FILES, env: { REVISION_DEBOUNCE_MS: "50" } });
    const w = world;
    const { issue, pr } = await implement(w, [create("greet.txt", "hello, world\n"), say("## Summary\nGreeting updated.")]);
    const { head } = await shown(w, pr);
    // Anthropic refuses the revision's request outright: a permanent failure after the in-progress run.
    w.anthropic.script([{ error: { status: 400, type: "invalid_request_error", message: "messages.1.content: tool_result block(s) provided when previous message does not contain any tool_use blocks" } }]);
    await comment(w, pr, 7301, "@agent rename the file");
    await w.waitFor(async () => (await revisions(w)).failed === 1, "the failed revision");
    const task = await w.deps.tasks.get(issue.id);
    expect(task?.state).toBe("failed");
    await w.waitFor(() => runsOn(w, head).at(-1)?.status === "completed", "the run completed");
    const after = await shown(w, pr);
    expect(after.head).toBe(head);
    expect(after.run).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(after.run?.output.title).toBe(`Agent revision failed: ${task?.error}`.replace(/\s+/g, " ").trim().slice(0, 1000));
    // The implement's result, then the revision's run: opened in progress, completed as the failure.
    expect(runsOn(w, head).map((r) => [r.status, r.conclusion])).toEqual([
      ["completed", "success"],
      ["completed", "failure"],
    ]);
    expect(w.github.requests.some((r) => r.method === "POST" && r.path.endsWith("/check-runs") && (r.body as { status?: string }).status === "in_progress")).toBe(true);
  });

  it("a revision that pushed a new head and then failed shows the failure there and completes the old head's in-progress run as superseded", async () => {
    world = await startWorld({ githubApp: true, files: FILES, env: { REVISION_DEBOUNCE_MS: "50" } });
    const w = world;
    const { issue, pr } = await implement(w, [create("greet.txt", "hello, world\n"), say("## Summary\nGreeting updated.")]);
    const { head } = await shown(w, pr);
    // The agent changes a file, then Anthropic refuses the next request: the work is pushed as it
    // stands (a WIP commit, a new head) and the revision fails for good.
    w.anthropic.script([
      create("greet.txt", "hello, there\n"),
      { error: { status: 400, type: "invalid_request_error", message: "messages.3.content: tool_result block(s) provided when previous message does not contain any tool_use blocks" } },
    ]);
    await comment(w, pr, 7401, "@agent greet someone else");
    await w.waitFor(async () => (await revisions(w)).failed === 1, "the failed revision");
    expect((await w.deps.tasks.get(issue.id))?.state).toBe("failed");
    await w.waitFor(() => runsOn(w, head).every((r) => r.status === "completed"), "the old head's runs completed");

    const after = await shown(w, pr);
    expect(after.head).not.toBe(head);
    expect(after.run).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(after.run?.output.title).toMatch(/^Agent revision failed: /);
    expect(runsOn(w, head).map((r) => [r.status, r.conclusion, r.output.title])).toEqual([
      ["completed", "success", "Agent finished; awaiting review"],
      ["completed", "neutral", `Superseded by ${after.head.slice(0, 7)}`],
    ]);
  });

  it("an installation without the Checks permission fails the task saying so, yet the PR stays the task's: linked in Linear, its review feedback still starts a revision", async () => {
    world = await startWorld({ githubApp: true, files: FILES, env: { REVISION_DEBOUNCE_MS: "50" } });
    const w = world;
    // The installation never accepted the Checks permission; tokens minted so far lose it too.
    const installation = w.github.state.installations.get(w.githubApp?.installationId ?? -1);
    if (!installation) throw new Error("the world's App has no installation");
    delete installation.permissions.checks;
    for (const t of w.github.state.installationTokens.values()) delete t.permissions.checks;

    w.github.setPermission(OWNER, REPO, REVIEWER.login, "write");
    const issue = w.newIssue({ title: "Greet the world" });
    w.anthropic.script([create("greet.txt", "hello, world\n"), say("## Summary\nGreeting updated.")]);
    expect(await w.waitForJob((await w.labelIssue(issue)).body.jobId as string)).toBe("failed");

    const task = await w.deps.tasks.get(issue.id);
    expect(task?.state).toBe("failed");
    expect(task?.error).toMatch(/"Checks: read and write" permission/);
    const pr = task?.prNumber as number;
    const { data: pull } = await w.octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: pr });
    expect(pull.state).toBe("open");
    expect(task?.prUrl).toBe(pull.html_url);
    expect(w.linear.store.attachmentsFor(issue.id).map((a) => a.url)).toEqual([pull.html_url]);
    expect((await w.deps.tasks.findByPullRequest(OWNER, REPO, pr))?.issueId).toBe(issue.id);
    expect(w.github.checkRuns(OWNER, REPO)).toHaveLength(0);

    // Review feedback finds the task by its PR: a revision runs (and fails on the gate the same way).
    await comment(w, pr, 7501, "@agent capitalise World");
    await w.waitFor(async () => (await revisions(w)).failed === 1, "the revision the feedback started");
    expect((await w.deps.tasks.get(issue.id))?.error).toMatch(/"Checks: read and write" permission/);
  });
});
