import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ScriptedTurn } from "../fakes/anthropic/index.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";
import { bash, edit } from "../helpers/turns.js";

const done = (
  text = "## Summary\nDone.\n## Files\ngreet.txt\n## Decisions\nnone\n## Open points\nnone",
): ScriptedTurn => ({
  content: [{ type: "text", text }],
});

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function pulls(w: World) {
  return (await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all" })).data;
}

/** Text of every tool_result the service sent back to the model. */
function toolResults(w: World): Array<{ content: string; is_error?: boolean }> {
  // The newest request carries the whole conversation.
  const messages = (w.anthropic.requests.at(-1)?.body.messages ?? []) as Array<{
    role: string;
    content: unknown;
  }>;
  return [messages].flatMap((list) =>
    list
      .filter((m) => m.role === "user" && Array.isArray(m.content))
      .flatMap((m) =>
        (m.content as Array<{ type: string; content?: unknown; is_error?: boolean }>).filter(
          (b) => b.type === "tool_result",
        ),
      )
      .map((b) => ({ content: String(b.content), is_error: b.is_error })),
  );
}

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await allFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

describe("implement: edges", () => {
  it("checks that still fail after the allowed rounds → draft PR that says so", async () => {
    world = await startWorld({ env: { AGENT_CHECK_ROUNDS: "1" } });
    const w = world;
    const issue = w.newIssue();
    // The agent breaks the check and never fixes it: first run, then one more round.
    w.anthropic.script([
      edit({ command: "create", path: "greet.txt", file_text: "goodbye\n" }),
      done(),
      done(),
    ]);
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    const [pr] = await pulls(w);
    expect(pr?.draft).toBe(true);
    expect(pr?.body).toContain("`sh check.sh` still fails, so this pull request is not ready for review.");
    // The failure output went back to the agent once (AGENT_CHECK_ROUNDS=1).
    const fed = w.anthropic.requests.filter((r) =>
      JSON.stringify(r.body.messages.at(-1)).includes("checks failed"),
    );
    expect(fed).toHaveLength(1);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", checks: { passed: false } });
  });

  it("a draft whose checks pass on a later run is marked ready, and a token that may not do it is named", async () => {
    world = await startWorld({ env: { AGENT_CHECK_ROUNDS: "0" } });
    const w = world;
    const issue = w.newIssue();
    const run = async (turns: ScriptedTurn[]) => {
      w.anthropic.script(turns);
      await new Promise((r) => setTimeout(r, 5));
      const res = await w.labelIssue(issue);
      expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    };
    await run([edit({ command: "create", path: "greet.txt", file_text: "goodbye\n" }), done()]);
    expect((await pulls(w))[0]?.draft).toBe(true);

    // The checks pass now, but the token only reads pull requests: the PR stays a draft and says why.
    w.github.setPermission(OWNER, REPO, w.github.botLogin, "read");
    await run([edit({ command: "create", path: "greet.txt", file_text: "hello, world\n" }), done()]);
    expect((await pulls(w))[0]?.draft).toBe(true);
    expect((await w.deps.tasks.get(issue.id))?.error).toMatch(/would not mark pull request #\d+ ready for review \(Resource not accessible by integration\); give GITHUB_TOKEN write access/);
    expect(w.logs.some((l) => l.includes("would not mark pull request"))).toBe(true);

    w.github.setPermission(OWNER, REPO, w.github.botLogin, "write");
    await run([done()]);
    expect((await pulls(w))[0]?.draft).toBe(false);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", error: null, checks: { passed: true } });
  });

  it("says prominently in the PR when the agent changed what the checks run", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue();
    // The check is made to pass by editing the check script, not the code.
    w.anthropic.script([edit({ command: "create", path: "check.sh", file_text: "#!/bin/sh\nexit 0\n" }), done()]);
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    const [pr] = await pulls(w);
    expect(pr?.body).toContain("The agent changed files the checks depend on: `check.sh`");
    expect(pr?.body).toContain("`sh check.sh` passed.");
  });

  it("stops at the budget with a clear note and opens a draft with what it has", async () => {
    world = await startWorld({ env: { AGENT_BUDGET_USD: "0.000001" } });
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([edit({ command: "create", path: "greet.txt", file_text: "hello, world\n" }), done()]);
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    // Only the first turn ran: the budget was spent after it.
    expect(w.anthropic.requests).toHaveLength(1);
    const [pr] = await pulls(w);
    expect(pr?.draft).toBe(true);
    expect(pr?.body).toContain("stopped after spending its budget (AGENT_BUDGET_USD)");
    // The checks did not run (checks run on finished work), which is not "no check command".
    expect(pr?.body).toContain("`sh check.sh` did not run: the agent stopped before it finished");
    expect(pr?.body).not.toContain("No check command is configured");
    const task = await w.deps.tasks.get(issue.id);
    expect(task?.error).toContain("AGENT_BUDGET_USD");
    expect(w.linear.store.commentsFor(issue.id)[0]?.body).toContain("AGENT_BUDGET_USD");
  });

  it("a job that fails after its push finishes on retry without running the agent again", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([edit({ command: "create", path: "greet.txt", file_text: "hello, world\n" }), done(), done()]);
    w.linear.failNext(1, "internal", { operation: "createAttachment" });
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string, "implement", 30_000)).toBe("completed");
    expect((await w.deps.queues.implement.getJob(res.body.jobId as string))?.attemptsMade).toBeGreaterThanOrEqual(1);
    expect(w.anthropic.requests).toHaveLength(2);
    expect(await w.remote.log("agent/eng-1")).toHaveLength(2);
    const list = await pulls(w);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ draft: false });
    expect(list[0]?.body).toContain("Done.");
    expect(w.linear.store.attachmentsFor(issue.id)).toHaveLength(1);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", error: null, landed: { jobId: res.body.jobId } });
  });

  it("an issue that routes nowhere gets a comment on how to route it and no agent run", async () => {
    world = await startWorld({ routing: null });
    const w = world;
    const issue = w.newIssue();
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    expect(w.anthropic.requests).toHaveLength(0);
    const bodies = w.linear.store.commentsFor(issue.id).map((c) => c.body);
    expect(bodies.some((b) => b.includes("`repo:owner/name`") && b.includes("DEFAULT_REPO"))).toBe(true);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "failed" });
    expect(await pulls(w)).toHaveLength(0);
  });

  it("refuses path and symlink escapes and never exposes a secret to the agent, git config or logs", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([
      edit({ command: "view", path: "/etc/passwd" }),
      edit({ command: "view", path: "../../../../etc/hostname" }),
      bash("ln -s /etc escape && echo linked"),
      edit({ command: "create", path: "escape/agent-workforce-pwned", file_text: "x" }),
      bash("env; cat .git/config 2>&1; git config --list 2>&1"),
      edit({ command: "create", path: "greet.txt", file_text: "hello, world\n" }),
      bash("rm escape"),
      done(),
    ]);
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");

    const results = toolResults(w);
    expect(results[0]).toMatchObject({ is_error: true });
    expect(results[0]?.content).toMatch(/outside the repository/);
    expect(results[1]).toMatchObject({ is_error: true });
    expect(results[3]).toMatchObject({ is_error: true });
    await expect(stat("/etc/agent-workforce-pwned")).rejects.toThrow();
    const envDump = results[4]?.content ?? "";
    expect(envDump).toContain("PATH=");
    for (const secret of w.secrets) {
      expect(envDump).not.toContain(secret);
      for (const r of results) expect(r.content).not.toContain(secret);
      expect(w.logs.join("\n")).not.toContain(secret);
    }
    // Nothing under DATA_DIR (mirror config, worktrees) holds the token.
    for (const file of await allFiles(w.dataDir)) {
      const text = await readFile(file, "utf8").catch(() => "");
      expect(text.includes(w.github.token), file).toBe(false);
    }
    const [pr] = await pulls(w);
    expect(pr?.draft).toBe(false);
  });

  it("a retried job updates the same PR instead of opening another", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([
      edit({ command: "create", path: "greet.txt", file_text: "hello, world\n" }),
      done("## Summary\nFirst try."),
    ]);
    const first = await w.labelIssue(issue);
    expect(await w.waitForJob(first.body.jobId as string)).toBe("completed");
    // The label is removed and added again: a new attempt on the same branch and PR.
    w.anthropic.script([
      edit({ command: "create", path: "NOTES.md", file_text: "notes\n" }),
      done("## Summary\nSecond try."),
    ]);
    await new Promise((r) => setTimeout(r, 5));
    const second = await w.labelIssue(issue);
    expect(second.body.jobId).not.toBe(first.body.jobId);
    const state = await w.waitForJob(second.body.jobId as string);
    expect(state, JSON.stringify(await w.deps.tasks.get(issue.id))).toBe("completed");

    const list = await pulls(w);
    expect(list).toHaveLength(1);
    expect(list[0]?.body).toContain("Second try.");
    // The second run resumed the pushed branch: both changes are on it.
    expect(await w.remote.show("agent/eng-1", "greet.txt")).toBe("hello, world");
    expect(await w.remote.show("agent/eng-1", "NOTES.md")).toBe("notes");
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ attempts: 2, prNumber: list[0]?.number });
    expect(w.linear.store.attachmentsFor(issue.id)).toHaveLength(1);
    expect(w.linear.store.commentsFor(issue.id)).toHaveLength(1);
  });

  it("a Linear outage while reading the issue is retried, not a failure", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([edit({ command: "create", path: "greet.txt", file_text: "hello, world\n" }), done()]);
    w.linear.failNext(1, "internal", { operation: "AgentIssueContext" });
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string, "implement", 30_000)).toBe("completed");
    const job = await w.deps.queues.implement.getJob(res.body.jobId as string);
    expect(job?.attemptsMade).toBeGreaterThanOrEqual(1);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", error: null });
    expect(await pulls(w)).toHaveLength(1);
  });

  it("a job whose issue no longer carries the agent label starts no agent", async () => {
    world = await startWorld();
    const w = world;
    const issue = w.newIssue();
    // A late copy of the labelling event: the label was removed in Linear since.
    const labelledAt = new Date(Date.now() - 60_000).toISOString();
    const stored = w.linear.store.getIssue(issue.id);
    if (stored) stored.labelIds = [];
    const res = await w.labelIssue(issue, { updatedAt: labelledAt });
    expect(await w.waitForJob(res.body.jobId as string, "implement")).toBe("completed");
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "stopped", error: expect.stringMatching(/label is no longer on the issue/) });
    expect(w.anthropic.requests).toHaveLength(0);
    expect(await pulls(w)).toHaveLength(0);
  });
});
