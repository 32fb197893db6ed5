import type { Job } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import type { FeedbackOutcome } from "../../jobs/feedback.js";
import type { WorkerDeps } from "../../jobs/job-context.js";
import { createLinearCommentProcessor } from "../../jobs/linear-comment.js";
import type { LinearCommentJobData } from "../../jobs/queues.js";
import { startWorkers } from "../../jobs/workers.js";
import type { ScriptedTurn } from "../fakes/anthropic/index.js";
import { linearCommentPayload } from "../fixtures/linear.js";
import { delegate, ofType, prompt, turnsByIssue } from "../helpers/sessions.js";
import { isTriageRequest, triageIntercept, triageTurn } from "../helpers/triage.js";
import { create, say } from "../helpers/turns.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

const REPORT = "## Summary\ngreet.txt now says hello, world.\n## Files\ngreet.txt\n## Decisions\nnone\n## Open points\nnone";
const QUESTIONS = ["Should the greeting end with an exclamation mark?", "Is `greet.txt` the only file to change?"];
const ANSWER = "No exclamation mark, and yes, only greet.txt (marker-answer-51c2).";
const CRITERIA = ["greet.txt reads `hello, world` without an exclamation mark (marker-crit-after-answer)"];

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Triage asks first, then (round 1, with the answer) says ready; agents follow their per-issue script. */
function scripted() {
  const turns = turnsByIssue();
  const triage = triageIntercept({ triage: { "ENG-1": [triageTurn({ verdict: "clarify", questions: QUESTIONS, rationale: "The issue leaves the punctuation open." }), triageTurn({ verdict: "ready", criteria: CRITERIA })] } });
  const intercept = (req: unknown): ScriptedTurn | undefined => triage(req) ?? turns.intercept(req);
  return { turns, triage, intercept };
}

/** The agent's first prompts (not triage's) for an issue title: one per agent run. */
function agentPrompts(w: World, title: string): string[] {
  return w.anthropic.requests
    .filter((r) => !isTriageRequest(r.body) && r.body.messages?.length === 1)
    .map((r) => String(r.body.messages[0].content[0].text))
    .filter((text) => text.includes(`<title>${title}</title>`));
}

describe("triage asks before any code: clarify", () => {
  it("label path: a comment asks the issue's creator, the task waits holding no slot across a worker restart, and the reply (delivered twice, its job retried) resumes it once to one PR", async () => {
    const { turns, triage, intercept } = scripted();
    world = await startWorld({ env: { AGENT_TRIAGE: "on", AGENT_CONCURRENCY: "1" }, anthropic: { intercept } });
    const w = world;
    const seeded = w.linear.store.seedIssue({ teamId: w.team.id, title: "Greet the world politely", description: "Make greet.txt greet the world.", labelIds: [w.agentLabel.id], creatorId: w.human.id });
    turns.plans.set(seeded.title, [create("greet.txt", "hello, world\n"), say(REPORT)]);
    const res = await w.labelIssue(seeded);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");

    // The question: one comment addressed to the creator, listing the questions; the task waits.
    const waiting = await w.deps.tasks.get(seeded.id);
    expect(waiting).toMatchObject({ state: "needs-input", triage: { verdict: "clarify", round: 0, questions: QUESTIONS } });
    expect(waiting?.clarification).toMatchObject({ questions: QUESTIONS, askedOf: "ada-lovelace", open: true, answers: [] });
    const question = w.linear.store.comments.get(waiting?.clarification?.commentId ?? "");
    expect(question?.issueId).toBe(seeded.id);
    expect(question?.body).toContain("@ada-lovelace, before the agent writes any code for ENG-1");
    expect(question?.body).toContain("1. Should the greeting end with an exclamation mark?");
    expect(question?.body).toContain("2. Is `greet.txt` the only file to change?");
    expect(question?.body).toContain("Reply to this comment to answer");
    expect(agentPrompts(w, seeded.title)).toHaveLength(0);
    // It holds no agent slot and no issue lock, and sits under "Needs you".
    expect(await w.deps.limits.issueHolder(seeded.id)).toBeNull();
    const api = (await w.app.inject({ url: "/api/tasks" })).json() as { needsYou: Array<{ issueId: string }> };
    expect(api.needsYou.map((n) => n.issueId)).toContain(seeded.id);

    // Meanwhile another issue takes the one agent slot and runs to its PR (triage: ready by default).
    const other = w.newIssue({ title: "Another issue meanwhile" });
    turns.plans.set(other.title, [create("other.txt", "hello\n"), say("## Summary\nAdded other.txt.")]);
    expect(await w.waitForJob((await w.labelIssue(other)).body.jobId as string)).toBe("completed");
    expect(await w.deps.tasks.get(other.id)).toMatchObject({ state: "pr-open" });

    // A worker restart while the task waits loses nothing: the question lives on the task.
    await w.workers?.close();
    w.workers = await startWorkers(w.deps);
    expect(await w.deps.tasks.get(seeded.id)).toMatchObject({ state: "needs-input", clarification: waiting?.clarification });

    // Our own question comment, echoed back by Linear's webhook, is never an answer.
    const echo = linearCommentPayload("create", { issueId: seeded.id, body: question?.body ?? "", commentId: question?.id, user: { id: w.linear.store.viewerId, name: "Fake Agent", email: "agent@example.com", url: "https://linear.app/fake/profiles/agent" }, organizationId: w.linear.store.organization.id });
    const echoed = await w.sendLinear(echo);
    expect(await w.waitForJob(echoed.body.jobId as string, "feedback")).toBe("completed");
    expect(await outcomeOf(w, echoed.body.jobId as string)).toEqual({ action: "ignored", reason: "the service's own comment" });

    // Another comment the service writes as its own Linear user is not an answer either.
    const ours = await w.sendLinear(linearCommentPayload("create", { issueId: seeded.id, body: "🤖 a note", user: { id: w.linear.store.viewerId, name: "Fake Agent", email: "agent@example.com", url: "https://linear.app/fake/profiles/agent" }, organizationId: w.linear.store.organization.id }));
    expect(await w.waitForJob(ours.body.jobId as string, "feedback")).toBe("completed");
    expect(await outcomeOf(w, ours.body.jobId as string)).toEqual({ action: "ignored", reason: "written by the service's own Linear user" });
    expect(await w.deps.tasks.get(seeded.id)).toMatchObject({ state: "needs-input", clarification: { open: true } });

    // The creator replies in the question's thread; Linear delivers the webhook twice.
    const reply = w.linear.store.addComment({ issueId: seeded.id, body: ANSWER, userId: w.human.id, parentId: question?.id ?? null });
    const payload = linearCommentPayload("create", { issueId: seeded.id, body: ANSWER, commentId: reply.id, parentId: question?.id ?? null, user: { id: w.human.id, name: w.human.name, email: w.human.email, url: w.human.url }, createdAt: reply.createdAt, organizationId: w.linear.store.organization.id });
    const first = await w.sendLinear(payload);
    const again = await w.sendLinear(payload);
    expect(first.body).toMatchObject({ status: "accepted", intent: "linear-comment" });
    expect(again.body).toMatchObject({ status: "duplicate", jobId: first.body.jobId });
    expect(await w.waitForJob(first.body.jobId as string, "feedback")).toBe("completed");
    const outcome = (await outcomeOf(w, first.body.jobId as string)) as { action: string; jobId: string };
    expect(outcome.action).toBe("implement");
    // A retried comment job (its first attempt died after taking the answer) takes nothing twice.
    const retried = await createLinearCommentProcessor(w.deps as WorkerDeps)(fakeJob(first.body.jobId as string, await dataOf(w, first.body.jobId as string)));
    expect(retried).toEqual(outcome);
    expect(await w.waitForJob(outcome.jobId, "implement", 30_000)).toBe("completed");

    // One run, one PR: the answer and round 1's criteria reached the agent's prompt.
    const prompts = agentPrompts(w, seeded.title);
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toContain(ANSWER);
    expect(prompts[0]).toContain("<answer author=\"Ada Lovelace\"");
    expect(prompts[0]).toContain("marker-crit-after-answer");
    const { data: pulls } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all" });
    expect(pulls.filter((p) => p.head.ref === "agent/eng-1")).toHaveLength(1);
    const done = await w.deps.tasks.get(seeded.id);
    expect(done).toMatchObject({ state: "pr-open", createdAt: waiting?.createdAt, attempts: 2, jobId: outcome.jobId, triage: { verdict: "ready", round: 1, criteria: CRITERIA } });
    expect(done?.clarification).toMatchObject({ open: false, answers: [{ id: reply.id, body: ANSWER, author: "Ada Lovelace" }] });
    expect(done?.clarification?.answers).toHaveLength(1);
    expect(triage.requests.triage.filter((id) => id === "ENG-1")).toHaveLength(2);
    // Once the task no longer waits, a comment on the issue is just a comment.
    const later = await w.commentOn(seeded, "Thanks!");
    expect(await w.waitForJob(later.body.jobId as string, "feedback")).toBe("completed");
    expect(await outcomeOf(w, later.body.jobId as string)).toEqual({ action: "ignored", reason: "the task waits for no answer (it is pr-open)" });
  });

  it("session path: the questions are an elicitation in the session; a prompted answer (redelivered) resumes the task once", async () => {
    const { turns, triage, intercept } = scripted();
    world = await startWorld({ env: { AGENT_TRIAGE: "on" }, anthropic: { intercept } });
    const w = world;
    const issue = w.newIssue({ title: "Greet the world politely", labels: [] });
    turns.plans.set(issue.title, [create("greet.txt", "hello, world\n"), say(REPORT)]);
    const { sessionId, res } = await delegate(w, issue);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");

    const asked = await w.waitFor(() => ofType(w, sessionId, "elicitation")[0], "the clarification elicitation");
    expect(asked?.content.body).toContain("Before I write any code for ENG-1");
    expect(asked?.content.body).toContain("1. Should the greeting end with an exclamation mark?");
    const thoughts = ofType(w, sessionId, "thought").map((t) => String(t.content.body));
    expect(thoughts.some((b) => b.startsWith("**Triage: needs answers first**") && b.includes("The issue leaves the punctuation open."))).toBe(true);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "needs-input", clarification: { open: true, commentId: null } });
    expect(w.linear.store.agentSessions.get(sessionId)?.status).toBe("awaitingInput");
    // No comment on the issue: the session is where the question lives.
    expect([...w.linear.store.comments.values()].filter((c) => c.issueId === issue.id && c.body.includes("Reply to this comment"))).toHaveLength(0);

    const answer = await prompt(w, sessionId, ANSWER);
    expect(answer.res.body).toMatchObject({ status: "accepted", intent: "feedback" });
    const redelivered = await w.sendLinear(answer.payload);
    expect(redelivered.body).toMatchObject({ status: "duplicate" });
    expect(await w.waitForJob(answer.res.body.jobId as string, "feedback")).toBe("completed");
    const outcome = (await outcomeOf(w, answer.res.body.jobId as string)) as { action: string; jobId: string };
    expect(outcome.action).toBe("implement");
    expect(await w.waitForJob(outcome.jobId, "implement", 30_000)).toBe("completed");

    const prompts = agentPrompts(w, issue.title);
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toContain(ANSWER);
    expect(prompts[0]).toContain("marker-crit-after-answer");
    expect(prompts[0]).not.toContain("<follow_up>");
    const done = await w.deps.tasks.get(issue.id);
    expect(done).toMatchObject({ state: "pr-open", attempts: 2, triage: { verdict: "ready", round: 1 }, clarification: { open: false, answers: [{ id: answer.payload.agentActivity?.id, body: ANSWER }] } });
    expect(ofType(w, sessionId, "elicitation")).toHaveLength(1);
    expect(ofType(w, sessionId, "response")).toHaveLength(1);
    expect(triage.requests.triage).toEqual(["ENG-1", "ENG-1"]);
  });
});

describe("triage asks at most once", () => {
  it("after an answer (a top-level comment by the issue's creator; someone else's cc is not one), a second clarify goes ahead anyway with its criteria and says so in the log", async () => {
    const turns = turnsByIssue();
    const again = triageTurn({ verdict: "clarify", questions: ["And the colour?"], criteria: ["greet.txt says hello, world (marker-crit-second-clarify)"] });
    const triage = triageIntercept({ triage: { "ENG-1": [triageTurn({ verdict: "clarify", questions: QUESTIONS }), again] } });
    world = await startWorld({ env: { AGENT_TRIAGE: "on" }, anthropic: { intercept: (req) => triage(req) ?? turns.intercept(req) } });
    const w = world;
    const issue = w.linear.store.seedIssue({ teamId: w.team.id, title: "Greet the world politely", description: "Make greet.txt greet the world.", labelIds: [w.agentLabel.id], creatorId: w.human.id });
    turns.plans.set(issue.title, [create("greet.txt", "hello, world\n"), say(REPORT)]);
    expect(await w.waitForJob((await w.labelIssue(issue)).body.jobId as string)).toBe("completed");
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "needs-input", clarification: { open: true } });

    // Someone else's top-level comment while the task waits ("cc @bob") is not an answer.
    const bob = w.linear.store.seedUser({ name: "Bob Builder", email: "bob@example.com" });
    const cc = await w.commentOn(issue, "cc @bob", { user: bob });
    expect(await w.waitForJob(cc.body.jobId as string, "feedback")).toBe("completed");
    expect(await outcomeOf(w, cc.body.jobId as string)).toEqual({ action: "ignored", reason: "neither a reply to the question comment nor a comment by the issue's creator" });
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "needs-input", clarification: { open: true, answers: [] } });

    // Not a reply in the question's thread, but by the issue's creator (whom the question addresses): an answer.
    const answer = await w.commentOn(issue, ANSWER);
    expect(answer.body).toMatchObject({ status: "accepted", intent: "linear-comment" });
    expect(await w.waitForJob(answer.body.jobId as string, "feedback")).toBe("completed");
    const outcome = (await outcomeOf(w, answer.body.jobId as string)) as { action: string; jobId: string };
    expect(outcome.action).toBe("implement");
    expect(await w.waitForJob(outcome.jobId, "implement", 30_000)).toBe("completed");

    const done = await w.deps.tasks.get(issue.id);
    expect(done).toMatchObject({ state: "pr-open", triage: { verdict: "clarify", round: 1 }, clarification: { open: false, answers: [{ id: answer.comment.id, body: ANSWER }] } });
    const prompts = agentPrompts(w, issue.title);
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toContain("marker-crit-second-clarify");
    expect(prompts[0]).toContain(ANSWER);
    expect(triage.requests.triage).toEqual(["ENG-1", "ENG-1"]);
    // Asked once only: one question comment on the issue.
    expect([...w.linear.store.comments.values()].filter((c) => c.issueId === issue.id && c.body.includes("Reply to this comment"))).toHaveLength(1);
    expect(w.logs.some((l) => l.includes("triage still has questions after the answers; going ahead anyway"))).toBe(true);
  });
});

describe("a retried asking job", () => {
  it("asks again from the recorded verdict: no second triage call, and the repository is not read again", async () => {
    const { turns, triage, intercept } = scripted();
    world = await startWorld({ env: { AGENT_TRIAGE: "on" }, anthropic: { intercept } });
    const w = world;
    const issue = w.newIssue({ title: "Greet the world politely" });
    turns.plans.set(issue.title, [create("greet.txt", "hello, world\n"), say(REPORT)]);
    // The question's comment fails once: the job fails after triage, and its retry asks again.
    w.linear.failNext(1, "internal", { operation: "createComment", when: (v) => String((v as { input?: { body?: unknown } }).input?.body ?? "").includes("before the agent writes any code") });
    await w.labelIssue(issue);
    const waiting = await w.waitFor(async () => {
      const t = await w.deps.tasks.get(issue.id);
      return t?.state === "needs-input" && t.clarification?.commentId && w.linear.store.comments.get(t.clarification.commentId) ? t : null;
    }, "the question asked on the retry", 45_000);
    const asks = w.linear.requests.filter((r) => r.operationName === "createComment" && String((r.variables as { input?: { body?: unknown } }).input?.body ?? "").includes("before the agent writes any code"));
    expect(asks).toHaveLength(2);
    expect(waiting?.triage).toMatchObject({ verdict: "clarify", round: 0 });
    expect(triage.requests.triage).toEqual(["ENG-1"]);
    expect(w.github.requests.filter((r) => r.method === "GET" && r.path === `/repos/${OWNER}/${REPO}`)).toHaveLength(1);
  });
});

async function outcomeOf(w: World, jobId: string): Promise<FeedbackOutcome | undefined> {
  return (await w.deps.queues.feedback.getJob(jobId))?.returnvalue as FeedbackOutcome | undefined;
}

async function dataOf(w: World, jobId: string): Promise<LinearCommentJobData> {
  return (await w.deps.queues.feedback.getJob(jobId))?.data as LinearCommentJobData;
}

// The processor reads only the job's id, queue and data.
function fakeJob(id: string, data: LinearCommentJobData): Job<LinearCommentJobData> {
  return { id, queueName: "feedback", data } as unknown as Job<LinearCommentJobData>;
}
