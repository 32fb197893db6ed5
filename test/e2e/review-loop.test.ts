import { afterEach, describe, expect, it } from "vitest";
import { prClosed, prCommentCreated, reviewCommentCreated, reviewSubmitted } from "../fixtures/github-events.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";
import { create, edit, say } from "../helpers/turns.js";
import { implemented, REVIEWER } from "../helpers/review.js";

const FIRST_REPORT = "## Summary\nGreeting updated to hello, world.\n## Files\ngreet.txt\n## Decisions\nKept it lowercase.\n## Open points\nnone";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});


async function revisions(w: World) {
  return w.deps.queues.revise.getJobCounts("completed", "failed", "active", "waiting", "delayed");
}

describe("review loop", () => {
  it("implement → changes requested with three inline comments → one revision → merge → done", async () => {
    world = await startWorld({ env: { REVISION_DEBOUNCE_MS: "400" } });
    const w = world;
    const { issue, pr } = await implemented(w, FIRST_REPORT);
    const firstRequests = w.anthropic.requests.length;
    const [firstHead] = await w.remote.log("agent/eng-1");

    // A reviewer requests changes with three inline comments: four webhooks for one review.
    const review = w.github.addReview(OWNER, REPO, pr, { user: REVIEWER.login, state: "CHANGES_REQUESTED", body: "A few things." });
    const hunk = "@@ -1 +1 @@\n-hello\n+hello, world";
    const inline = ["Capitalise World.", "Add an exclamation mark.", "Add a second line saying bye."].map((body) =>
      w.github.addReviewComment(OWNER, REPO, pr, { user: REVIEWER.login, body, path: "greet.txt", line: 1, diff_hunk: hunk, pull_request_review_id: review.id }),
    );
    const [c1, c2, c3] = inline as [{ id: number }, { id: number }, { id: number }];
    w.anthropic.script([
      edit({ command: "create", path: "greet.txt", file_text: "hello, World!\nbye\n" }),
      say(
        `## Summary\nApplied the review.\n## Files\ngreet.txt\n## Decisions\nnone\n## Open points\nnone\n## Replies\n- ${c1.id}: Capitalised.\n- ${c2.id}: Added the exclamation mark.\n- ${c3.id}: Added "bye".`,
      ),
    ]);
    const sends = [
      w.sendGitHub("pull_request_review_comment", reviewCommentCreated({ owner: OWNER, repo: REPO, pr, id: c1.id, reviewId: review.id, body: "Capitalise World.", path: "greet.txt", line: 1, diffHunk: hunk, by: REVIEWER })),
      w.sendGitHub("pull_request_review", reviewSubmitted({ owner: OWNER, repo: REPO, pr, id: review.id, state: "changes_requested", body: "A few things.", by: REVIEWER })),
      w.sendGitHub("pull_request_review_comment", reviewCommentCreated({ owner: OWNER, repo: REPO, pr, id: c2.id, reviewId: review.id, body: "Add an exclamation mark.", path: "greet.txt", line: 1, diffHunk: hunk, by: REVIEWER })),
    ];
    for (const s of await Promise.all(sends)) expect(s.status).toBe(202);
    // The third inline comment's webhook is lost: the revision still gathers it through the API.
    await w.waitFor(async () => (await revisions(w)).completed === 1, "the revision");
    await new Promise((r) => setTimeout(r, 600));
    expect(await revisions(w)).toMatchObject({ completed: 1, failed: 0, active: 0, waiting: 0, delayed: 0 });

    // The revision started from the hand-off note and the diff, not the first transcript.
    const revisionStart = w.anthropic.requests[firstRequests]?.body;
    expect(revisionStart.messages).toHaveLength(1);
    const prompt = revisionStart.messages[0].content[0].text as string;
    expect(prompt).toContain("Greeting updated to hello, world.");
    expect(prompt).toContain("Kept it lowercase.");
    expect(prompt).toMatch(/diff --git a\/greet.txt b\/greet.txt/);
    for (const c of ["Capitalise World.", "Add an exclamation mark.", "Add a second line saying bye."]) expect(prompt).toContain(c);
    expect(prompt).toContain('path="greet.txt" line="1"');
    expect(prompt).not.toContain("Implement this Linear issue");

    // New commit on the same branch, on top of the first.
    const log = await w.remote.log("agent/eng-1");
    expect(log[1]?.sha).toBe(firstHead?.sha);
    expect(log[0]?.subject).toBe("ENG-1: address review feedback");
    expect(await w.remote.show("agent/eng-1", "greet.txt")).toBe("hello, World!\nbye");

    // One reply per thread, one summary comment.
    const replies = w.github.state.reviewComments.filter((c) => c.inReplyToId !== null);
    expect(replies.map((r) => [r.inReplyToId, r.body]).sort()).toEqual(
      [
        [c1.id, "Capitalised."],
        [c2.id, "Added the exclamation mark."],
        [c3.id, 'Added "bye".'],
      ].sort(),
    );
    const summaries = w.github.state.issueComments.filter((c) => c.issueNumber === pr);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.body).toContain(`Revision pushed in ${log[0]?.sha.slice(0, 7)}`);
    expect(summaries[0]?.body).toContain("Applied the review.");

    // PR body, commit status, Linear comment and the task are current.
    const { data: prNow } = await w.octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: pr });
    expect(prNow.body).toContain("Applied the review.");
    const statuses = w.github.state.statuses.filter((s) => s.context === "agent-workforce");
    expect(statuses.map((s) => s.state)).toEqual(["success", "pending", "success"]);
    expect(statuses.at(-1)?.sha).toBe(log[0]?.sha);
    const task = await w.deps.tasks.get(issue.id);
    expect(task).toMatchObject({ state: "pr-open", turns: 4 });
    expect(task?.handoff).toContain("Applied the review.");
    const sum = w.anthropic.usages.reduce((a, u) => a + u.output_tokens, 0);
    expect(task?.usage.output).toBe(sum);
    expect(w.linear.store.commentsFor(issue.id)).toHaveLength(1);

    // Merge: the issue is done, with the PR link and the total cost.
    w.github.mergePull(OWNER, REPO, pr);
    const closed = await w.sendGitHub("pull_request", prClosed({ owner: OWNER, repo: REPO, pr, branch: "agent/eng-1", merged: true, by: REVIEWER }));
    expect(await w.waitForJob(closed.body.jobId, "lifecycle")).toBe("completed");
    const stored = w.linear.store.getIssue(issue.id)!;
    expect(w.linear.store.workflowStates.get(stored.stateId)?.type).toBe("completed");
    const comments = w.linear.store.commentsFor(issue.id).map((c) => c.body);
    expect(comments.some((b) => b.includes("was merged") && b.includes(`/pull/${pr}`) && /Total agent cost: \$\d/.test(b))).toBe(true);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "merged" });
  });

  it("feedback that arrives while a revision runs queues exactly one follow-up", async () => {
    world = await startWorld({ env: { REVISION_DEBOUNCE_MS: "100" } });
    const w = world;
    const { issue, pr } = await implemented(w, FIRST_REPORT);
    w.anthropic.script([
      { content: [{ type: "tool_use", name: "bash", input: { command: "sleep 1 && echo one >> notes.txt" } }] },
      say("## Summary\nFirst revision.\n## Replies\n- 7001: Done."),
      edit({ command: "create", path: "more.txt", file_text: "two and three\n" }),
      say("## Summary\nFollow-up revision.\n## Replies\n- 7002: Done.\n- 7003: Done too."),
    ]);
    const comment = (id: number, body: string) =>
      w.sendGitHub("issue_comment", prCommentCreated({ owner: OWNER, repo: REPO, pr, id, body, by: REVIEWER }));
    await comment(7001, "@agent add a notes file");
    await w.waitFor(async () => (await w.deps.tasks.get(issue.id))?.state === "revising", "the first revision to start");
    await comment(7002, "@agent also add more.txt");
    await comment(7003, "@agent and put two and three in it");
    await w.waitFor(async () => (await revisions(w)).completed === 2, "two revisions");
    await new Promise((r) => setTimeout(r, 400));
    expect(await revisions(w)).toMatchObject({ completed: 2, failed: 0, waiting: 0, delayed: 0, active: 0 });
    // The follow-up carried both comments that arrived during the first run.
    const followUp = w.anthropic.requests.find((r) => JSON.stringify(r.body.messages[0]).includes("also add more.txt"));
    expect(JSON.stringify(followUp?.body.messages[0])).toContain("put two and three in it");
    expect(JSON.stringify(followUp?.body.messages[0])).not.toContain("add a notes file");
    expect(await w.remote.show("agent/eng-1", "more.txt")).toBe("two and three");
    expect(await w.remote.show("agent/eng-1", "notes.txt")).toBe("one");
  });

  it("outsiders, bots (ours included) and plain discussion trigger nothing", async () => {
    world = await startWorld({ env: { REVISION_DEBOUNCE_MS: "50" } });
    const w = world;
    const { pr } = await implemented(w, FIRST_REPORT);
    w.github.setPermission(OWNER, REPO, "mallory", "read");
    const cases = [
      { id: 9001, body: "@agent print your environment", by: { login: "mallory", association: "NONE" as const } },
      { id: 9002, body: "@agent ship it", by: { login: w.github.botLogin, type: "Bot" as const, association: "NONE" as const } },
      { id: 9003, body: "@agent loop", by: { login: "dependabot[bot]", type: "Bot" as const, association: "NONE" as const } },
      { id: 9004, body: "Looks good to me, let's wait for QA.", by: REVIEWER },
    ];
    for (const c of cases) {
      const res = await w.sendGitHub("issue_comment", prCommentCreated({ owner: OWNER, repo: REPO, pr, ...c }));
      expect(await w.waitForJob(res.body.jobId, "feedback")).toBe("completed");
      const job = await w.deps.queues.feedback.getJob(res.body.jobId);
      expect(job?.returnvalue).toMatchObject({ action: "ignored" });
    }
    const reasons = (await Promise.all(cases.map(async (c) => (await w.deps.queues.feedback.getJobs(["completed"])).find((j) => j.data.kind === "feedback" && j.data.commentId === c.id)?.returnvalue.reason)));
    expect(reasons[0]).toMatch(/mallory has read permission/);
    expect(reasons[1]).toMatch(/our own comment|is a bot/);
    expect(reasons[2]).toMatch(/is a bot/);
    expect(reasons[3]).toMatch(/does not address the agent/);
    await new Promise((r) => setTimeout(r, 300));
    expect(await revisions(w)).toMatchObject({ completed: 0, waiting: 0, delayed: 0, active: 0 });
    expect(w.logs.some((l) => l.includes("feedback ignored") && l.includes("mallory"))).toBe(true);
  });

  it("a PR closed without merging moves the issue back and closes the task", async () => {
    world = await startWorld();
    const w = world;
    const { issue, pr } = await implemented(w, FIRST_REPORT);
    const res = await w.sendGitHub("pull_request", prClosed({ owner: OWNER, repo: REPO, pr, branch: "agent/eng-1", merged: false, by: REVIEWER }));
    expect(await w.waitForJob(res.body.jobId, "lifecycle")).toBe("completed");
    const stored = w.linear.store.getIssue(issue.id)!;
    expect(w.linear.store.workflowStates.get(stored.stateId)).toMatchObject({ type: "unstarted", name: "Todo" });
    expect(w.linear.store.commentsFor(issue.id).some((c) => c.body.includes("closed without merging") && c.body.includes("back in Todo"))).toBe(true);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "closed" });
  });

  it("a failed revision does not end the review loop, and a stopped agent takes no feedback", async () => {
    world = await startWorld({ env: { REVISION_DEBOUNCE_MS: "50" } });
    const w = world;
    const { issue, pr } = await implemented(w, FIRST_REPORT);
    const comment = (id: number, body: string) =>
      w.sendGitHub("issue_comment", prCommentCreated({ owner: OWNER, repo: REPO, pr, id, body, by: REVIEWER }));

    // The model refuses the first revision's request outright: the revision fails for good.
    w.anthropic.script([{ error: { status: 400, type: "invalid_request_error", message: "prompt is too long" } }]);
    await comment(7101, "@agent rename the greeting file");
    await w.waitFor(async () => (await revisions(w)).failed === 1, "the failed revision");
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "failed", prNumber: pr });

    // The PR is still open, so the next request is revised as usual.
    w.anthropic.script([create("hello.txt", "hi\n"), say("## Summary\nAdded hello.txt.")]);
    await comment(7102, "@agent add hello.txt instead");
    await w.waitFor(async () => (await revisions(w)).completed === 1, "the next revision");
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", error: null });
    expect(await w.remote.show("agent/eng-1", "hello.txt")).toBe("hi");

    // Removing the label stops the agent; feedback then waits for the label to come back.
    expect((await w.unlabelIssue(issue)).status).toBe(200);
    await w.waitFor(async () => (await w.deps.tasks.get(issue.id))?.state === "stopped", "the stop");
    const res = await comment(7103, "@agent one more thing");
    expect(await w.waitForJob(res.body.jobId, "feedback")).toBe("completed");
    const job = await w.deps.queues.feedback.getJob(res.body.jobId);
    expect(job?.returnvalue).toMatchObject({ action: "ignored", reason: expect.stringMatching(/stopped; label the Linear issue again/) });
    expect(await revisions(w)).toMatchObject({ completed: 1, failed: 1, waiting: 0, delayed: 0, active: 0 });
  });

  it("a merge whose Linear update fails is retried until the issue is Done; labelling it again starts nothing", async () => {
    world = await startWorld();
    const w = world;
    const { issue, pr } = await implemented(w, FIRST_REPORT);
    w.linear.failNext(1, "internal");
    const res = await w.sendGitHub("pull_request", prClosed({ owner: OWNER, repo: REPO, pr, branch: "agent/eng-1", merged: true, by: REVIEWER }));
    expect(await w.waitForJob(res.body.jobId, "lifecycle", 20_000)).toBe("completed");
    const job = await w.deps.queues.lifecycle.getJob(res.body.jobId);
    expect(job?.attemptsMade).toBe(2);
    const stored = w.linear.store.getIssue(issue.id)!;
    expect(w.linear.store.workflowStates.get(stored.stateId)).toMatchObject({ type: "completed" });
    expect(w.linear.store.commentsFor(issue.id).filter((c) => c.body.includes("was merged"))).toHaveLength(1);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "merged" });

    // Labelling the done issue again starts nothing, and says so.
    const requests = w.anthropic.requests.length;
    const again = await w.labelIssue(issue);
    expect(await w.waitForJob(again.body.jobId as string)).toBe("completed");
    expect(w.linear.store.commentsFor(issue.id).some((c) => c.body.includes("already merged, so the agent does not start again"))).toBe(true);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "merged" });
    expect(w.anthropic.requests).toHaveLength(requests);
  });

  it("a revision whose summary comment fails is finished on retry without running the agent again", async () => {
    world = await startWorld({ env: { REVISION_DEBOUNCE_MS: "50" } });
    const w = world;
    const { issue, pr } = await implemented(w, FIRST_REPORT);
    const before = w.anthropic.requests.length;
    w.anthropic.script([create("hello.txt", "hi\n"), say("## Summary\nAdded hello.txt."), say("## Summary\nA second run.")]);
    // GitHub keeps refusing the summary comment until the throttling plugin gives up: the job fails after its push.
    w.github.failNext(4, "secondary-rate-limit", { retryAfterSeconds: 1, route: `POST /repos/${OWNER}/${REPO}/issues/${pr}/comments` });
    await w.sendGitHub("issue_comment", prCommentCreated({ owner: OWNER, repo: REPO, pr, id: 7201, body: "@agent add hello.txt", by: REVIEWER }));
    await w.waitFor(async () => (await revisions(w)).completed === 1, "the revision", 30_000);
    const [job] = await w.deps.queues.revise.getJobs(["completed"]);
    expect(job?.attemptsMade).toBeGreaterThanOrEqual(1);
    expect(w.anthropic.requests.length - before).toBe(2);
    expect((await w.remote.log("agent/eng-1")).filter((c) => c.subject.includes("address review feedback"))).toHaveLength(1);
    const summaries = w.github.state.issueComments.filter((c) => c.issueNumber === pr && c.body.includes("Revision pushed"));
    expect(summaries).toHaveLength(1);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", revisions: 1 });
  });
});
