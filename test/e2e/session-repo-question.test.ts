import { afterEach, describe, expect, it } from "vitest";
import { startWorkers } from "../../jobs/workers.js";
import type { FakeAgentActivity } from "../fakes/linear/agent-sessions.js";
import { delegate, ofType, prompt, turnsByIssue } from "../helpers/sessions.js";
import { create, say } from "../helpers/turns.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

const REPORT = "## Summary\ngreet.txt now says hello, world.\n## Files\ngreet.txt\n## Decisions\nnone\n## Open points\nnone";
const OPTIONS = [
  { label: "acme/gadgets", value: "acme/gadgets" },
  { label: "acme/widgets", value: "acme/widgets" },
];

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("a delegated issue that routes nowhere: the session asks which repository instead of guessing", () => {
  it("select elicitation → no run, no slot → unknown answer asks again → a worker restart → the answer resumes the same task to a PR", async () => {
    const turns = turnsByIssue();
    world = await startWorld({
      env: { AGENT_CONCURRENCY: "1" },
      defaultRepo: null,
      routing: { repos: { [`${OWNER}/${REPO}`]: { checkCommand: "sh check.sh" }, [`${OWNER}/gadgets`]: {} } },
      anthropic: { intercept: turns.intercept },
    });
    const w = world;
    const issue = w.newIssue({ title: "Greet the world politely", labels: [] });
    turns.plans.set(issue.title, [create("greet.txt", "hello, world\n"), say(REPORT)]);
    const { sessionId, res } = await delegate(w, issue);
    expect(res.body).toMatchObject({ status: "accepted", intent: "implement" });

    const asked = await w.waitFor(() => ofType(w, sessionId, "elicitation")[0], "the repository question");
    expectSelect(asked);
    expect(asked?.content.body).toContain("Which repository should I work in for ENG-1?");
    expect(asked?.content.body).toContain("no `repo:` label, project route or team route names a repository for it, and no DEFAULT_REPO is set");
    // The asking job is over: it holds no agent slot and no issue lock while the task waits.
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    expect(await w.deps.limits.issueHolder(issue.id)).toBeNull();
    const waiting = await w.deps.tasks.get(issue.id);
    expect(waiting).toMatchObject({ state: "needs-input", repo: null, repoQuestion: { candidates: ["acme/gadgets", "acme/widgets"] } });
    expect(w.anthropic.requests).toHaveLength(0);
    expect(w.linear.store.agentSessions.get(sessionId)?.status).toBe("awaitingInput");
    const api = (await w.app.inject({ url: "/api/tasks" })).json() as { needsYou: Array<{ kind: string; issueId: string; reason: string }> };
    expect(api.needsYou).toContainEqual(expect.objectContaining({ kind: "question", issueId: issue.id, reason: expect.stringContaining("acme/gadgets or acme/widgets") }));

    // Meanwhile another issue takes the one agent slot and runs to its PR.
    const routed = w.linear.store.seedLabel({ name: `repo:${OWNER}/${REPO}` });
    const other = w.newIssue({ title: "Another issue meanwhile", labels: [w.agentLabel, routed] });
    turns.plans.set(other.title, [create("other.txt", "hello\n"), say("## Summary\nAdded other.txt.")]);
    expect(await w.waitForJob((await w.labelIssue(other)).body.jobId as string)).toBe("completed");
    expect(await w.deps.tasks.get(other.id)).toMatchObject({ state: "pr-open" });

    // A worker restart while the task waits loses nothing: the question lives on the task.
    await w.workers?.close();
    w.workers = await startWorkers(w.deps);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "needs-input", repoQuestion: waiting?.repoQuestion });

    const wrong = await prompt(w, sessionId, "the blue one");
    expect(wrong.res.body).toMatchObject({ status: "accepted", intent: "feedback" });
    expect(await w.waitForJob(wrong.res.body.jobId as string, "feedback")).toBe("completed");
    const again = ofType(w, sessionId, "elicitation");
    expect(again).toHaveLength(2);
    expectSelect(again[1]);
    expect(again[1]?.content.body).toMatch(/^"the blue one" does not match any repository I may work in\./);
    const still = await w.deps.tasks.get(issue.id);
    expect(still?.state).toBe("needs-input");
    expect(still?.repoChoice).toBeUndefined();

    const answer = await prompt(w, sessionId, "acme/widgets");
    expect(await w.waitForJob(answer.res.body.jobId as string, "feedback")).toBe("completed");
    const outcome = (await w.deps.queues.feedback.getJob(answer.res.body.jobId as string))?.returnvalue as { action: string; jobId: string };
    expect(outcome.action).toBe("implement");
    expect(outcome.jobId).not.toBe(res.body.jobId);
    expect(await w.waitForJob(outcome.jobId, "implement", 30_000)).toBe("completed");

    const { data: pulls } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "open" });
    const pr = pulls.find((p) => p.head.ref === "agent/eng-1");
    expect(pr).toBeDefined();
    const done = await w.deps.tasks.get(issue.id);
    // The same task record, resumed: created once, a second attempt, the choice remembered.
    expect(done).toMatchObject({ state: "pr-open", createdAt: waiting?.createdAt, attempts: 2, jobId: outcome.jobId, repo: { owner: OWNER, name: REPO }, repoQuestion: null });
    expect(done?.repoChoice).toMatchObject({ repo: "acme/widgets", activityId: answer.payload.agentActivity?.id });
    expect(ofType(w, sessionId, "thought").some((t) => String(t.content.body).startsWith("Working in `acme/widgets`"))).toBe(true);
    const responses = ofType(w, sessionId, "response");
    expect(responses).toHaveLength(1);
    expect(responses[0]?.content.body).toContain(`[PR #${pr?.number}](${pr?.html_url})`);
    expect(ofType(w, sessionId, "elicitation")).toHaveLength(2);
    expect(w.linear.store.agentSessions.get(sessionId)?.status).toBe("complete");
    // Linear's context from the delegation reached the resumed run's prompt; the answer did not.
    const first = w.anthropic.requests.find((r) => String(r.body.messages[0].content[0].text).includes(issue.title));
    expect(first?.body.messages[0].content[0].text).toContain("<linear_context>");
    expect(first?.body.messages[0].content[0].text).not.toContain("<follow_up>");
  });

  it("Stop while the task waits for its answer withdraws the question with one confirming response", async () => {
    world = await startWorld({ defaultRepo: null, routing: { repos: { [`${OWNER}/${REPO}`]: {}, [`${OWNER}/gadgets`]: {} } } });
    const w = world;
    const issue = w.newIssue({ labels: [] });
    const { sessionId } = await delegate(w, issue);
    await w.waitFor(() => ofType(w, sessionId, "elicitation").length === 1, "the repository question");
    const stop = await prompt(w, sessionId, "Stop", "stop");
    expect(await w.waitForJob(stop.res.body.jobId as string, "lifecycle")).toBe("completed");
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "stopped", repoQuestion: null, error: "Stopped because someone pressed Stop in the Linear agent session, while it waited for a repository to be chosen." });
    expect(ofType(w, sessionId, "response").map((r) => r.content.body)).toEqual([expect.stringMatching(/^Stopped\. Stopped because someone pressed Stop/)]);
    const api = (await w.app.inject({ url: "/api/tasks" })).json() as { needsYou: Array<{ issueId: string }> };
    expect(api.needsYou.map((n) => n.issueId)).not.toContain(issue.id);
    expect(w.anthropic.requests).toHaveLength(0);
  });
});

function expectSelect(a: FakeAgentActivity | undefined): void {
  expect(a?.signal).toBe("select");
  expect(a?.signalMetadata).toEqual({ options: OPTIONS });
}
