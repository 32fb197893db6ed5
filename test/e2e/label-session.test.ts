import { afterEach, describe, expect, it } from "vitest";
import { safeJobId } from "../../jobs/queues.js";
import { agentSessionCreated } from "../fixtures/linear-agent.js";
import { installThroughBrowser, linearAppEnv, registerApp } from "../helpers/linear-app.js";
import { ofType } from "../helpers/sessions.js";
import { bash, create, say } from "../helpers/turns.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

const REPORT = "## Summary\ngreet.txt now says hello, world.\n## Files\ngreet.txt\n## Decisions\nnone\n## Open points\nnone";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const sessionsOn = (w: World, issueId: string) => [...w.linear.store.agentSessions.values()].filter((s) => s.issueId === issueId);
const opsNamed = (w: World, name: string) => w.linear.requests.filter((r) => r.query.includes(name));

describe("label path with the Linear app installed: the task shows in its own agent session", () => {
  it("a labelled issue opens one session (kept across a retry) that shows the thoughts, plan, PR and response, instead of the progress comment", async () => {
    // The app's default budget (1,200 requests an hour) would space this run's requests seconds apart.
    world = await startWorld({ env: { ...linearAppEnv(), LINEAR_REQUESTS_PER_HOUR: "360000" } });
    const w = world;
    registerApp(w.linear);
    const install = await installThroughBrowser(w.app, w.linear);
    expect(install.status, install.body).toBe(200);
    const org = w.linear.store.organization;
    const issue = w.newIssue();
    w.anthropic.script([create("greet.txt", "hello, world\n"), bash("sh check.sh && echo ok"), say(REPORT)]);
    // The first attempt fails after the session is open (Linear answers the issue read with a 500): the retry must reuse it.
    w.linear.failNext(1, "internal", { operation: "AgentIssueContext" });

    const res = await w.labelIssue(issue);
    expect(res.body).toMatchObject({ status: "accepted", intent: "implement" });
    expect(await w.waitForJob(res.body.jobId as string, "implement", 40_000)).toBe("completed");
    expect(opsNamed(w, "AgentIssueContext").length).toBeGreaterThanOrEqual(2);

    // One session, opened once, recorded on the task as the label's own.
    expect(opsNamed(w, "agentSessionCreateOnIssue")).toHaveLength(1);
    const sessions = sessionsOn(w, issue.id);
    expect(sessions).toHaveLength(1);
    const session = sessions[0]!;
    expect(session.appUserId).toBe(w.linear.oauth.appUserId);
    const task = await w.deps.tasks.get(issue.id);
    expect(task).toMatchObject({ state: "pr-open", session: { id: session.id, organizationId: org.id, openedBy: "label" } });

    // The session shows the work: thoughts (the retry among them), the plan, the PR as an external URL and one response.
    const { data: pulls } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "open" });
    expect(pulls).toHaveLength(1);
    const pr = pulls[0]!;
    const thoughts = ofType(w, session.id, "thought").map((t) => String(t.content.body));
    expect(thoughts.some((t) => t.startsWith("Retrying after:"))).toBe(true);
    expect(thoughts).toContain("Reading the issue.");
    expect(session.plan).toEqual([
      { content: `Route to a repository: ${OWNER}/${REPO}`, status: "completed" },
      { content: "Prepare the workspace", status: "completed" },
      { content: "Implement", status: "completed" },
      { content: "Run checks: `sh check.sh` passed", status: "completed" },
      { content: `Open the pull request: #${pr.number}`, status: "completed" },
    ]);
    expect(session.externalLinks).toContainEqual({ label: "Pull request", url: pr.html_url });
    const responses = ofType(w, session.id, "response");
    expect(responses).toHaveLength(1);
    expect(responses[0]?.content.body).toContain(`[PR #${pr.number}](${pr.html_url})`);
    expect(ofType(w, session.id, "error")).toHaveLength(0);
    expect(session.status).toBe("complete");

    // No progress comment: only the session thread's stub and the response Linear echoes under it.
    const comments = w.linear.store.commentsFor(issue.id).map((c) => c.body);
    expect(comments).toHaveLength(2);
    expect(comments.some((b) => b.includes("Agent:"))).toBe(false);
    expect(opsNamed(w, "commentCreate").filter((r) => JSON.stringify(r.variables).includes("Agent:"))).toHaveLength(0);

    // Linear announcing that session as `created` (undocumented for app-opened sessions) starts nothing and revises nothing.
    const stored = w.linear.store.getIssue(issue.id)!;
    const echo = agentSessionCreated({
      sessionId: session.id,
      issue: { id: stored.id, identifier: stored.identifier, title: stored.title, description: stored.description, url: stored.url, team: { id: w.team.id, key: w.team.key, name: w.team.name } },
      createdAt: session.createdAt,
      organizationId: org.id,
      appUserId: session.appUserId,
      creator: null,
      commentId: session.commentId ?? undefined,
    });
    const modelCalls = w.anthropic.requests.length;
    const activities = ofType(w, session.id, "thought").length;
    const sent = await w.sendLinear(echo);
    expect(sent.body).toMatchObject({ status: "accepted", intent: "implement" });
    expect(await w.waitForJob(sent.body.jobId as string)).toBe("completed");
    await w.waitFor(async () => (await w.deps.queues.ack.getJobCounts("completed")).completed === 1, "the echo's acknowledgement job");
    expect(w.anthropic.requests).toHaveLength(modelCalls);
    expect(await w.deps.queues.revise.getJobCounts("waiting", "delayed", "active", "completed")).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 0 });
    expect(ofType(w, session.id, "thought")).toHaveLength(activities);
    expect(sessionsOn(w, issue.id)).toHaveLength(1);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", attempts: task?.attempts });
  }, 60_000);

  it("Linear's `created` for the session the label path is opening, handled before Linear answered the create, posts no acknowledgement", async () => {
    world = await startWorld({ env: { ...linearAppEnv(), LINEAR_REQUESTS_PER_HOUR: "360000" } });
    const w = world;
    registerApp(w.linear);
    expect((await installThroughBrowser(w.app, w.linear)).status).toBe(200);
    const org = w.linear.store.organization;
    const issue = w.newIssue();
    w.anthropic.script([create("greet.txt", "hello, world\n"), say(REPORT)]);

    // Linear has opened the session but its answer has not reached the label path yet: the echo arrives now.
    let echoed: { sessionId: string; ackJobId: string } | undefined;
    w.linear.beforeAnswer = async (operation) => {
      if (operation !== "agentSessionCreateOnIssue" || echoed) return;
      const session = sessionsOn(w, issue.id)[0]!;
      const stored = w.linear.store.getIssue(issue.id)!;
      const echo = agentSessionCreated({
        sessionId: session.id,
        issue: { id: stored.id, identifier: stored.identifier, title: stored.title, description: stored.description, url: stored.url, team: { id: w.team.id, key: w.team.key, name: w.team.name } },
        createdAt: session.createdAt,
        organizationId: org.id,
        appUserId: session.appUserId,
        creator: null,
        commentId: session.commentId ?? undefined,
      });
      const sent = await w.sendLinear(echo);
      expect(sent.body).toMatchObject({ status: "accepted", intent: "implement" });
      echoed = { sessionId: session.id, ackJobId: safeJobId("ack", session.id) };
      const ackJobId = echoed.ackJobId;
      // The ack is under way before the label path hears Linear's answer.
      await w.waitFor(async () => ["active", "completed", "failed"].includes(String(await (await w.deps.queues.ack.getJob(ackJobId))?.getState())), "the echo's ack job to start");
    };

    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string, "implement", 40_000)).toBe("completed");
    w.linear.beforeAnswer = undefined;
    expect(echoed).toBeDefined();
    // Positive signals first: the ack finished, and the session shows the task's own work.
    expect(await w.waitForJob(echoed!.ackJobId, "ack" as never)).toBe("completed");
    expect((await w.deps.queues.ack.getJob(echoed!.ackJobId))?.returnvalue).toEqual({ said: "" });
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", session: { id: echoed!.sessionId, openedBy: "label" }, sessionOpening: null });
    expect(ofType(w, echoed!.sessionId, "response")).toHaveLength(1);
    const thoughts = ofType(w, echoed!.sessionId, "thought").map((t) => String(t.content.body));
    expect(thoughts).toContain("Reading the issue.");
    // No acknowledgement in the task's own session.
    expect(thoughts.filter((t) => /^(Working on|Queued|Received) /.test(t))).toEqual([]);
    expect(sessionsOn(w, issue.id)).toHaveLength(1);
  }, 60_000);
});
