import { afterEach, describe, expect, it } from "vitest";
import { queueTick } from "../../jobs/tree/queue-tree.js";
import type { PlannedSubtask, SplitPlan, Task } from "../../src/tasks/task.js";
import type { ScriptedTurn } from "../fakes/anthropic/index.js";
import type { FakeIssue } from "../fakes/linear/index.js";
import { prClosed } from "../fixtures/github-events.js";
import { REVIEWER } from "../helpers/review.js";
import { isPlanRequest, isTriageRequest, triageIntercept, triageTurn } from "../helpers/triage.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

// A sub-issue that waits for its blockers is triaged while it waits, so the run the manager starts
// once they merged skips triage: the dependent wave's triage is off the tree's critical path.

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const ENV = { AGENT_TRIAGE: "on", LINEAR_REQUESTS_PER_HOUR: "360000" };

const firstText = (req: any): string => {
  const c = req?.messages?.[0]?.content;
  return typeof c === "string" ? c : Array.isArray(c) ? c.map((b: { text?: string }) => b?.text ?? "").join("\n") : "";
};

/** Each sub-issue's agent (not triage): writes its own file, then reports. Records which issue each turn was for. */
function agents(calls: string[]) {
  return (req: any): ScriptedTurn | undefined => {
    if (isTriageRequest(req) || isPlanRequest(req)) return undefined;
    const issue = /<issue id="([^"]+)"/.exec(firstText(req))?.[1] ?? "?";
    calls.push(issue);
    const taken = (req.messages as Array<{ role: string }>).filter((m) => m.role === "assistant").length;
    return taken === 0
      ? { content: [{ type: "tool_use", name: "bash", input: { command: `echo ${issue} > ${issue.toLowerCase()}.txt` } }] }
      : { content: [{ type: "text", text: `## Summary\nWrote ${issue.toLowerCase()}.txt.` }] };
  };
}

/** The parent, its sub-issues in the Linear fake (labelled, under the parent) and the task records createPlan leaves. */
async function seedTree(w: World, deps: Record<string, string[]>): Promise<{ parent: FakeIssue; subs: Record<string, FakeIssue> }> {
  const parent = w.newIssue({ title: "Build the whole feature", description: "A large piece of work." });
  const subs: Record<string, FakeIssue> = {};
  const subtasks: PlannedSubtask[] = [];
  for (const [key, dependsOn] of Object.entries(deps)) {
    const issue = w.linear.store.seedIssue({ teamId: w.team.id, title: `Part ${key}`, description: `Brief of ${key}: write your file.`, labelIds: [w.agentLabel.id], parentId: parent.id });
    subs[key] = issue;
    subtasks.push({ key, title: issue.title, brief: `Brief of ${key}`, criteria: [], owns: [], dependsOn, issueId: issue.id, identifier: issue.identifier, dropped: null });
  }
  const now = new Date().toISOString();
  const plan: SplitPlan = {
    status: "created",
    goal: "Ship the feature in parts.",
    interfaces: "Each part writes its own file.",
    subtasks,
    revisions: 0,
    approvalCommentId: null,
    proposedAt: now,
    approvedBy: "Ada",
    createdAt: now,
    rollupCommentId: null,
    budgetUsd: 100,
    budgetStoppedAt: null,
    manager: { usage: { input: 2_000, output: 300, cacheWrite: 0, cacheRead: 0 }, costUsd: 0.01 },
    answered: [],
  };
  await w.deps.tasks.ensure({ issueId: parent.id, identifier: parent.identifier, title: parent.title, issueUrl: parent.url });
  await w.deps.tasks.update(parent.id, () => ({ state: "managing", teamId: w.team.id, plan }));
  for (const sub of subtasks) {
    const issue = subs[sub.key] as FakeIssue;
    await w.deps.tasks.ensure({ issueId: issue.id, identifier: issue.identifier, title: issue.title, issueUrl: issue.url });
    await w.deps.tasks.update(issue.id, () => ({ teamId: w.team.id, parent: { issueId: parent.id, identifier: parent.identifier, key: sub.key } }));
  }
  return { parent, subs };
}

const task = async (w: World, issue: FakeIssue) => (await w.deps.tasks.get(issue.id)) as Task;

/** Merges a sub-issue's PR in the GitHub fake and sends the pull_request closed webhook. */
async function merge(w: World, issue: FakeIssue): Promise<void> {
  const t = await task(w, issue);
  w.github.mergePull(OWNER, REPO, t.prNumber as number);
  const res = await w.sendGitHub("pull_request", prClosed({ owner: OWNER, repo: REPO, pr: t.prNumber as number, branch: t.branch as string, merged: true, by: REVIEWER }));
  expect(await w.waitForJob(res.body.jobId, "lifecycle")).toBe("completed");
}

describe("a sub-issue waiting for its blockers is triaged while it waits", () => {
  it("triages the dependant before its blockers merge, shows it waiting (not working), and does not triage it again when it starts", async () => {
    const router = triageIntercept({});
    const calls: string[] = [];
    world = await startWorld({ env: ENV, anthropic: { intercept: (req) => router(req) ?? agents(calls)(req) } });
    const w = world;
    const { parent, subs } = await seedTree(w, { s1: [], s2: [], s3: ["s1", "s2"] });
    const [s1, s2, s3] = [subs.s1, subs.s2, subs.s3] as [FakeIssue, FakeIssue, FakeIssue];
    await queueTick(w.deps.queues, parent.id, "plan created", 0);

    // Triaged while s1 and s2 still run or wait for review: recorded, and s3 still waits, unstarted.
    const early = (await w.waitFor<Task | null>(async () => {
      const t = await task(w, s3);
      return t.triage && t.step === `waiting for ${s1.identifier}, ${s2.identifier} to merge` ? t : null;
    }, "s3 triaged while it waits", 30_000)) as Task;
    expect(early).toMatchObject({ state: "queued", startedAt: null, triage: { verdict: "ready", round: 0 } });
    expect(router.requests.triage.filter((id) => id === s3.identifier)).toHaveLength(1);
    expect(calls).not.toContain(s3.identifier);

    await w.waitFor(async () => (await task(w, s1)).state === "pr-open" && (await task(w, s2)).state === "pr-open", "s1 and s2 open their PRs", 60_000);
    await merge(w, s1);
    await merge(w, s2);
    await w.waitFor(async () => (await task(w, s3)).state === "pr-open", "s3 opens its PR", 60_000);
    const done = await task(w, s3);
    // The verdict recorded before both blockers merged is the one the run used: one triage call, paid once.
    const mergedAt = Math.min(Date.parse((await task(w, s1)).finishedAt as string), Date.parse((await task(w, s2)).finishedAt as string));
    expect(Date.parse(done.triage?.at as string)).toBeLessThan(mergedAt);
    expect(done.triage).toEqual(early.triage);
    expect(router.requests.triage.filter((id) => id === s3.identifier)).toHaveLength(1);
    expect(Date.parse(done.startedAt as string)).toBeGreaterThanOrEqual(mergedAt);
    expect(w.logs.some((l) => l.includes("triage already said ready"))).toBe(true);
  }, 120_000);

  it("a waiting sub-issue's clarify asks its question while it waits; the answer re-triages it once, still waiting, and its start pays for no third triage", async () => {
    const router = triageIntercept({ triage: { "ENG-3": [triageTurn({ verdict: "clarify", questions: ["Which file name?"] }), triageTurn({ verdict: "ready", criteria: ["marker-crit-after-answer"] })] } });
    const calls: string[] = [];
    world = await startWorld({ env: ENV, anthropic: { intercept: (req) => router(req) ?? agents(calls)(req) } });
    const w = world;
    const { parent, subs } = await seedTree(w, { s1: [], s2: ["s1"] });
    const [s1, s2] = [subs.s1, subs.s2] as [FakeIssue, FakeIssue];
    expect(s2.identifier).toBe("ENG-3");
    await queueTick(w.deps.queues, parent.id, "plan created", 0);

    const asked = (await w.waitFor<Task | null>(async () => {
      const t = await task(w, s2);
      return t.state === "needs-input" && t.clarification?.commentId && w.linear.store.comments.get(t.clarification.commentId) ? t : null;
    }, "s2 asks its question while it waits", 30_000)) as Task;
    expect(asked).toMatchObject({ startedAt: null, triage: { verdict: "clarify", round: 0 } });
    expect(w.linear.store.comments.get(asked.clarification?.commentId as string)?.body).toContain("Which file name?");
    // The roll-up says s2 waits for an answer; the parent does not count it running.
    const rollup = () => w.linear.store.commentsFor(parent.id).find((c) => c.body.includes(`Sub-issues of ${parent.identifier}`))?.body ?? "";
    await w.waitFor(() => rollup().includes(`${s2.identifier} Part s2 — waiting for your answer`), "the roll-up shows s2 waiting for an answer", 30_000);
    expect((await task(w, parent)).step).not.toContain(s2.identifier);

    // Answered while s1 still waits for review: re-triaged once (round 1), and it waits again, unstarted.
    await w.waitFor(async () => (await task(w, s1)).state === "pr-open", "s1 opens its PR", 60_000);
    const question = w.linear.store.comments.get(asked.clarification?.commentId as string);
    await w.commentOn(s2, "Call it eng-3.txt.", { parentId: question?.id });
    const again = await w.waitFor(async () => {
      const t = await task(w, s2);
      return t.triage?.round === 1 && t.state === "queued" && t.step === `waiting for ${s1.identifier} to merge` ? t : null;
    }, "s2 re-triaged with the answer while it waits", 30_000);
    expect(again).toMatchObject({ startedAt: null, triage: { verdict: "ready", criteria: ["marker-crit-after-answer"] } });
    expect(calls).not.toContain(s2.identifier);

    await merge(w, s1);
    await w.waitFor(async () => (await task(w, s2)).state === "pr-open", "s2 opens its PR", 60_000);
    expect(router.requests.triage.filter((id) => id === s2.identifier)).toHaveLength(2);
    const prompt = firstText(w.anthropic.requests.find((r) => !isTriageRequest(r.body) && firstText(r.body).includes(`<issue id="${s2.identifier}"`))?.body);
    expect(prompt).toContain("marker-crit-after-answer");
    expect(prompt).toContain("Call it eng-3.txt.");
  }, 120_000);
});
