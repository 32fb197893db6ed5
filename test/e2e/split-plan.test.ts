import { afterEach, describe, expect, it } from "vitest";
import { planUuid } from "../../src/linear/sub-issues.js";
import type { Task } from "../../src/tasks/task.js";
import type { ScriptedTurn } from "../fakes/anthropic/index.js";
import type { FakeIssue, FakeProject } from "../fakes/linear/index.js";
import { type ChildWorkers, startChildWorkers } from "../helpers/child-workers.js";
import { installThroughBrowser, linearAppEnv, registerApp } from "../helpers/linear-app.js";
import { ofType, prompt } from "../helpers/sessions.js";
import { planTurn, triageIntercept, triageTurn } from "../helpers/triage.js";
import { startWorld, type World } from "../helpers/world.js";

// A large issue split by the manager: the plan is proposed, approved (or revised once, or created
// at once with AGENT_SPLIT_APPROVAL=auto), and created in Linear as sub-issues with `blocks`
// relations, idempotently even when the worker creating them is killed.

let world: World | undefined;
let children: ChildWorkers | undefined;
afterEach(async () => {
  await children?.close();
  await world?.close();
  children = undefined;
  world = undefined;
});

const FOUR = planTurn({
  goal: "Greet visitors in English and French, with an index and docs. MARKER-GOAL",
  interfaces: "`greeting(lang: string): string` in src/greeting.ts reads src/<lang>.txt",
  subtasks: [
    { key: "s1", title: "English greeting", brief: "Add src/en.txt saying `hello`. MARKER-BRIEF-S1", criteria: ["src/en.txt says hello"], owns: ["src/en.txt"] },
    { key: "s2", title: "French greeting", brief: "Add src/fr.txt saying `bonjour`.", criteria: ["src/fr.txt says bonjour"], owns: ["src/fr.txt"] },
    { key: "s3", title: "Greeting index", brief: "Add src/greeting.ts reading both files.", criteria: ["greeting('fr') is bonjour"], owns: ["src/greeting.ts"], dependsOn: ["s1", "s2"] },
    { key: "s4", title: "Greeting docs", brief: "Document both greetings in README.md.", criteria: ["README lists both"], owns: ["README.md"], dependsOn: ["s1", "s2"] },
  ],
});

const THREE = planTurn({
  goal: "Greet visitors in English and French, documented. MARKER-REVISED",
  interfaces: "src/<lang>.txt hold the greetings",
  subtasks: [
    { key: "s1", title: "English greeting", brief: "Add src/en.txt saying `hello`.", owns: ["src/en.txt"] },
    { key: "s2", title: "French greeting", brief: "Add src/fr.txt saying `bonjour`.", owns: ["src/fr.txt"] },
    { key: "s3", title: "Index and docs", brief: "Add src/greeting.ts and document it.", owns: ["src/greeting.ts", "README.md"], dependsOn: ["s1", "s2"] },
  ],
});

/** A world with triage on, the first issue (ENG-1, in a project) triaged `split` and planned as given. */
async function splitWorld(p: { plans: ScriptedTurn[]; env?: Record<string, string>; startWorkers?: boolean; app?: boolean }) {
  const router = triageIntercept({ triage: { "ENG-1": triageTurn({ verdict: "split", criteria: ["Both greetings work"] }) }, plan: { "ENG-1": p.plans } });
  // The app's default request budget would space this run's requests seconds apart.
  const app = p.app ? { ...linearAppEnv(), LINEAR_REQUESTS_PER_HOUR: "360000" } : {};
  world = await startWorld({ env: { AGENT_TRIAGE: "on", ...app, ...p.env }, anthropic: { intercept: router }, ...(p.startWorkers === false ? { startWorkers: false } : {}) });
  const w = world;
  if (p.app) {
    registerApp(w.linear);
    const install = await installThroughBrowser(w.app, w.linear);
    expect(install.status, install.body).toBe(200);
  }
  const project: FakeProject = w.linear.store.seedProject({ name: "Greetings" });
  const issue = w.newIssue({ title: "Greet in two languages", description: "English and French greetings, an index, docs." });
  w.linear.store.getIssue(issue.id)!.projectId = project.id;
  return { w, issue, project, router };
}

const task = (w: World, issueId: string) => w.deps.tasks.get(issueId) as Promise<Task>;

function waitForPlan(w: World, issue: FakeIssue, ok: (t: Task) => boolean, what: string, timeoutMs = 30_000): Promise<Task> {
  return w.waitFor<Task | null>(async () => {
    const t = await task(w, issue.id);
    return t && ok(t) ? t : null;
  }, what, timeoutMs) as Promise<Task>;
}

/** The plan's approval comment is in Linear (the plan is saved first, then posted). */
const posted = (w: World, t: Task) => Boolean(t.plan?.approvalCommentId && w.linear.store.comments.get(t.plan.approvalCommentId));

const subIssuesOf = (w: World, issue: FakeIssue) => [...w.linear.store.issues.values()].filter((i) => i.parentId === issue.id);

/** The `blocks` relations as "blocker>blocked" identifiers, sorted. */
function blocks(w: World): string[] {
  const ident = (id: string) => w.linear.store.getIssue(id)?.identifier ?? id;
  return [...w.linear.store.issueRelations.values()]
    .filter((r) => r.type === "blocks")
    .map((r) => `${ident(r.issueId)}>${ident(r.relatedIssueId)}`)
    .sort();
}

/** What every created plan must satisfy: its sub-issues in Linear, relations, and child tasks. */
async function expectCreated(w: World, issue: FakeIssue, project: FakeProject, parent: Task): Promise<void> {
  const plan = parent.plan!;
  const subs = subIssuesOf(w, issue);
  expect(subs).toHaveLength(plan.subtasks.length);
  const byKey = new Map(plan.subtasks.map((s) => [s.key, s]));
  for (const s of plan.subtasks) {
    const sub = w.linear.store.getIssue(s.issueId!)!;
    expect(s.issueId).toBe(planUuid(issue.id, plan.proposedAt, s.key));
    expect(sub).toMatchObject({ identifier: s.identifier, title: s.title, parentId: issue.id, teamId: w.team.id, projectId: project.id });
    expect(sub.labelIds).toContain(w.agentLabel.id);
    expect(sub.description).toContain(s.brief);
    expect(sub.description).toContain("## Acceptance criteria");
    const deps = s.dependsOn.map((k) => byKey.get(k)!.identifier).join(", ");
    expect(sub.description).toContain(deps ? `Part of ${issue.identifier}; depends on ${deps}.` : `Part of ${issue.identifier}; depends on no other sub-issue.`);
    const child = await task(w, s.issueId!);
    expect(child).toMatchObject({ identifier: s.identifier, parent: { issueId: issue.id, identifier: issue.identifier, key: s.key }, teamId: w.team.id });
  }
  const want = plan.subtasks.flatMap((s) => s.dependsOn.map((k) => `${byKey.get(k)!.identifier}>${s.identifier}`)).sort();
  expect(blocks(w)).toEqual(want);
}

describe("split: the manager's plan, approved and created in Linear", () => {
  it("label path: the plan is posted for approval, `approve` creates four sub-issues with blocks relations in the issue's team and project", async () => {
    const { w, issue, project, router } = await splitWorld({ plans: [FOUR] });
    await w.labelIssue(issue);
    // The plan is saved before it is posted: wait for the comment too.
    const asked = await waitForPlan(w, issue, (t) => t.state === "needs-input" && t.plan?.status === "proposed" && posted(w, t), "the plan proposed");
    const plan = asked.plan!;
    expect(plan).toMatchObject({ revisions: 0, answered: [], approvedBy: null, createdAt: null, goal: expect.stringContaining("MARKER-GOAL") });
    expect(plan.subtasks.map((s) => [s.key, s.dependsOn, s.issueId])).toEqual([
      ["s1", [], null],
      ["s2", [], null],
      ["s3", ["s1", "s2"], null],
      ["s4", ["s1", "s2"], null],
    ]);
    expect(plan.budgetUsd).toBeCloseTo(w.deps.config.agent.budgetUsd * 4);
    // The manager's spend is triage's and the plan's; both are on the task and in the day's ledger.
    expect(plan.manager.costUsd).toBeGreaterThan(asked.triage!.costUsd);
    expect(plan.manager.usage.input).toBeGreaterThan(asked.triage!.usage.input);
    expect(asked.costUsd).toBeCloseTo(plan.manager.costUsd);
    expect(await w.deps.spend.day()).toBeCloseTo(plan.manager.costUsd);
    const comment = w.linear.store.comments.get(plan.approvalCommentId!);
    expect(comment?.body).toContain("Proposed plan: 4 sub-issues");
    expect(comment?.body).toContain("MARKER-GOAL");
    expect(comment?.body).toContain("Reply **approve** to create these sub-issues, or reply with the changes you want");
    expect(subIssuesOf(w, issue)).toHaveLength(0);

    await w.commentOn(issue, "Approve", { parentId: plan.approvalCommentId! });
    const created = await waitForPlan(w, issue, (t) => t.plan?.status === "created", "the plan created");
    expect(created.plan).toMatchObject({ approvedBy: w.human.name, answered: [expect.any(String)], createdAt: expect.any(String) });
    await expectCreated(w, issue, project, created);
    expect(blocks(w)).toHaveLength(4);
    expect(router.requests.plan).toEqual(["ENG-1"]);
    // One request per sub-issue and per relation, plus the parent and its children read once each.
    const ops = (name: string) => w.linear.requests.filter((r) => r.operationName === name).length;
    expect([ops("AgentPlanParent"), ops("AgentCreateSubIssue"), ops("AgentRelateBlocks"), ops("AgentSubIssue")]).toEqual([1, 4, 4, 0]);
  }, 60_000);

  it("a reply with changes revises the plan once; further changes are answered without a new plan; approval creates the revision", async () => {
    const { w, issue, project, router } = await splitWorld({ plans: [FOUR, THREE, FOUR] });
    await w.labelIssue(issue);
    const asked = await waitForPlan(w, issue, (t) => t.plan?.status === "proposed" && t.state === "needs-input", "the plan proposed");
    const first = asked.plan!;
    await w.commentOn(issue, "Fold the index and the docs into one sub-issue, please.", { parentId: first.approvalCommentId! });
    const revised = await waitForPlan(w, issue, (t) => t.plan?.revisions === 1 && posted(w, t), "the plan revised");
    expect(revised.state).toBe("needs-input");
    expect(revised.plan).toMatchObject({ status: "proposed", goal: expect.stringContaining("MARKER-REVISED"), budgetUsd: w.deps.config.agent.budgetUsd * 3 });
    expect(revised.plan!.subtasks.map((s) => s.title)).toEqual(["English greeting", "French greeting", "Index and docs"]);
    expect(revised.plan!.approvalCommentId).not.toBe(first.approvalCommentId);
    expect(w.linear.store.comments.get(revised.plan!.approvalCommentId!)?.body).toContain("Revised plan: 3 sub-issues");
    expect(revised.plan!.manager.costUsd).toBeGreaterThan(first.manager.costUsd);
    expect(router.requests.plan).toEqual(["ENG-1", "ENG-1"]);

    const again = await w.commentOn(issue, "Also rename the French one.", { parentId: revised.plan!.approvalCommentId! });
    await waitForPlan(w, issue, (t) => t.plan!.answered.includes(again.comment.id), "the second change taken");
    await w.waitFor(() => w.linear.store.commentsFor(issue.id).find((c) => c.body.includes("revised this plan once already")), "the revised-once reply");
    expect(router.requests.plan).toHaveLength(2);
    expect((await task(w, issue.id)).plan).toMatchObject({ status: "proposed", revisions: 1 });

    await w.commentOn(issue, "lgtm", { parentId: revised.plan!.approvalCommentId! });
    const created = await waitForPlan(w, issue, (t) => t.plan?.status === "created", "the revised plan created");
    await expectCreated(w, issue, project, created);
    expect(subIssuesOf(w, issue).map((i) => i.title).sort()).toEqual(["English greeting", "French greeting", "Index and docs"]);
    expect(router.requests.plan).toHaveLength(2);
  }, 60_000);

  it("with the Linear app installed: the plan is an elicitation in the session, `approve` there creates sub-issues labelled, not delegated", async () => {
    const { w, issue, project } = await splitWorld({ plans: [FOUR], app: true });
    await w.labelIssue(issue);
    const asked = await waitForPlan(w, issue, (t) => t.state === "needs-input" && t.plan?.status === "proposed", "the plan proposed");
    const sessionId = asked.session!.id;
    // No approval comment: the session asks.
    expect(asked.plan!.approvalCommentId).toBeNull();
    expect(w.linear.store.comments.get(planUuid(issue.id, asked.triage!.at, "approval"))).toBeUndefined();
    const ask = await w.waitFor(() => ofType(w, sessionId, "elicitation").find((a) => String(a.content.body).includes("Proposed plan: 4 sub-issues")), "the plan's elicitation");
    expect(String(ask?.content.body)).toContain("Reply **approve**");

    await prompt(w, sessionId, "👍");
    const created = await waitForPlan(w, issue, (t) => t.plan?.status === "created", "the plan created");
    await expectCreated(w, issue, project, created);
    // Labelled (the label opens each sub-issue's own session), never delegated: a delegation's
    // session could turn a child's job into a paid revision of an open PR.
    for (const s of created.plan!.subtasks) {
      const sub = w.linear.store.getIssue(s.issueId!);
      expect(sub?.labelIds).toContain(w.agentLabel.id);
      expect(sub?.delegateId ?? null).toBeNull();
    }
  }, 60_000);

  it("AGENT_SPLIT_APPROVAL=auto creates the plan without asking", async () => {
    const { w, issue, project } = await splitWorld({ plans: [FOUR], env: { AGENT_SPLIT_APPROVAL: "auto" } });
    await w.labelIssue(issue);
    const created = await waitForPlan(w, issue, (t) => t.plan?.status === "created", "the plan created");
    expect(created.plan).toMatchObject({ approvalCommentId: null, approvedBy: null, revisions: 0 });
    await expectCreated(w, issue, project, created);
    expect(w.linear.store.commentsFor(issue.id).some((c) => c.body.includes("Proposed plan"))).toBe(false);
  }, 60_000);

  it("a worker SIGKILLed while it creates the sub-issues: another worker finishes, with no duplicate sub-issue and every relation", async () => {
    // Short job locks (as crash.test.ts) hand a dead worker's jobs over sooner where a queue honours them.
    const fastStalls = { JOB_LOCK_MS: "1500", JOB_STALLED_INTERVAL_MS: "500" };
    const { w, issue, project } = await splitWorld({ plans: [FOUR], env: { AGENT_SPLIT_APPROVAL: "auto", ...fastStalls }, startWorkers: false });
    children = await startChildWorkers(1, w.env);
    const victim = children.workers[0]!;
    // The second sub-issue is stored in Linear, but its worker dies before it hears so.
    let creates = 0;
    w.linear.beforeAnswer = async (op) => {
      if (op !== "AgentCreateSubIssue" || ++creates !== 2) return;
      victim.kill("SIGKILL");
      await victim.exited;
    };
    await w.labelIssue(issue);
    await w.waitFor(() => creates >= 2, "the second sub-issue being created", 30_000);
    expect(await victim.exited).toBeNull();
    expect(subIssuesOf(w, issue)).toHaveLength(2);
    const before = await task(w, issue.id);
    expect(before.plan?.status).toBe("creating");
    expect(before.plan?.subtasks.filter((s) => s.issueId).map((s) => s.key)).toEqual(["s1"]);

    // Stall detection hands the create-plan job to the next worker (the lifecycle queue's lock: 30 s).
    await children.add();
    const created = await waitForPlan(w, issue, (t) => t.plan?.status === "created", "the plan created by the second worker", 100_000);
    await expectCreated(w, issue, project, created);
    expect(subIssuesOf(w, issue)).toHaveLength(4);
    expect(blocks(w)).toHaveLength(4);
    // The sub-issue the dead worker created was found, not created again.
    expect(w.linear.requests.filter((r) => r.operationName === "AgentCreateSubIssue")).toHaveLength(4);
  }, 150_000);
});

describe("split: a plan is paid for once", () => {
  const posts = (marker: string) => (v: unknown) => String((v as { input?: { body?: unknown } }).input?.body ?? "").includes(marker);

  it("a failed post of the proposed plan is retried from the saved plan: one planning call, its cost booked once, one comment", async () => {
    const { w, issue, router } = await splitWorld({ plans: [FOUR, THREE] });
    w.linear.failNext(1, "internal", { operation: "createComment", when: posts("Proposed plan") });
    await w.labelIssue(issue);
    const asked = await waitForPlan(w, issue, (t) => t.state === "needs-input" && Boolean(t.plan?.approvalCommentId && w.linear.store.comments.get(t.plan.approvalCommentId)), "the plan posted on the retry", 45_000);
    expect(w.linear.requests.filter((r) => r.operationName === "createComment" && posts("Proposed plan")(r.variables))).toHaveLength(2);
    expect(router.requests.plan).toEqual(["ENG-1"]);
    expect(asked.plan).toMatchObject({ status: "proposed", revisions: 0, goal: expect.stringContaining("MARKER-GOAL") });
    expect(asked.costUsd).toBeCloseTo(asked.plan!.manager.costUsd);
    expect(await w.deps.spend.day()).toBeCloseTo(asked.plan!.manager.costUsd);
    expect(w.linear.store.commentsFor(issue.id).filter((c) => c.body.includes("Proposed plan"))).toHaveLength(1);
  }, 60_000);

  it("a failed post of the revised plan is retried from the saved revision, with no second revision call", async () => {
    const { w, issue, router } = await splitWorld({ plans: [FOUR, THREE, FOUR] });
    await w.labelIssue(issue);
    const asked = await waitForPlan(w, issue, (t) => t.state === "needs-input" && t.plan?.status === "proposed", "the plan proposed");
    w.linear.failNext(1, "internal", { operation: "createComment", when: posts("Revised plan") });
    await w.commentOn(issue, "Fold the index and the docs into one sub-issue, please.", { parentId: asked.plan!.approvalCommentId! });
    const revised = await waitForPlan(w, issue, (t) => Boolean(t.plan?.revisions === 1 && w.linear.store.comments.get(t.plan.approvalCommentId!)?.body.includes("Revised plan")), "the revision posted on the retry", 45_000);
    expect(router.requests.plan).toEqual(["ENG-1", "ENG-1"]);
    expect(revised.plan).toMatchObject({ status: "proposed", goal: expect.stringContaining("MARKER-REVISED") });
    expect(revised.costUsd).toBeCloseTo(revised.plan!.manager.costUsd);
    expect(await w.deps.spend.day()).toBeCloseTo(revised.plan!.manager.costUsd);
  }, 60_000);

  it("a planning call whose answer cannot be used is booked and fails the task for good, saying what to do", async () => {
    const refusal = { content: [{ type: "text" as const, text: "I cannot." }], stop_reason: "refusal" as const };
    const { w, issue, router } = await splitWorld({ plans: [refusal] });
    await w.labelIssue(issue);
    const failed = await waitForPlan(w, issue, (t) => t.state === "failed", "the task failed");
    expect(failed.error).toMatch(/The manager could not plan the sub-issues of ENG-1 .*declined.*Split the issue into sub-issues by hand, or add the `agent:go` label/);
    expect(failed.plan ?? null).toBeNull();
    // Triage's call and the refused one: both on the task and in the day's ledger, paid once.
    expect(failed.costUsd).toBeGreaterThan(failed.triage!.costUsd);
    expect(await w.deps.spend.day()).toBeCloseTo(failed.costUsd);
    expect(router.requests.plan).toEqual(["ENG-1"]);
  }, 60_000);
});
