import { afterEach, describe, expect, it } from "vitest";
import type { ScriptedTurn } from "../fakes/anthropic/index.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const run: ScriptedTurn[] = [
  { content: [{ type: "tool_use", name: "str_replace_based_edit_tool", input: { command: "create", path: "greet.txt", file_text: "hello, world\n" } }] },
  { content: [{ type: "text", text: "## Summary\nDone." }] },
];

async function reconcile(w: World, id: string) {
  await w.deps.queues.reconcile.add("reconcile", { kind: "reconcile" }, { jobId: id });
  expect(await w.waitForJob(id, "reconcile" as never)).toBe("completed");
  return (await w.deps.queues.reconcile.getJob(id))?.returnvalue;
}

describe("reconciler", () => {
  it("starts a labelled issue whose webhook was lost, once, even when the webhook arrives late", async () => {
    world = await startWorld({ env: { RECONCILE_INTERVAL_MS: "0" } });
    const w = world;
    const issue = w.newIssue();
    const labelledAt = issue.updatedAt;
    w.anthropic.script(run);
    const report = await reconcile(w, "r1");
    expect(report.labelledWithoutTask).toEqual([issue.identifier]);
    await w.waitFor(async () => (await w.deps.tasks.get(issue.id))?.state === "pr-open", "the repaired run");
    // The lost webhook turns up after all, and the next sweep runs: neither repeats the work.
    const late = await w.labelIssue(issue, { updatedAt: labelledAt });
    expect(await w.waitForJob(late.body.jobId as string)).toBe("completed");
    expect((await reconcile(w, "r2")).labelledWithoutTask).toEqual([]);
    const { data: pulls } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all" });
    expect(pulls).toHaveLength(1);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ attempts: 1 });
    expect(w.anthropic.requests).toHaveLength(2);
  });

  it("records a merge whose webhook was lost", async () => {
    world = await startWorld({ env: { RECONCILE_INTERVAL_MS: "0" } });
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script(run);
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    const task = await w.deps.tasks.get(issue.id);
    w.github.mergePull(OWNER, REPO, task?.prNumber as number);
    expect((await reconcile(w, "r1")).missedPrCloses).toEqual([issue.identifier]);
    await w.waitFor(async () => (await w.deps.tasks.get(issue.id))?.state === "merged", "the merge to be recorded");
    const stored = w.linear.store.getIssue(issue.id)!;
    expect(w.linear.store.workflowStates.get(stored.stateId)?.type).toBe("completed");
    expect((await reconcile(w, "r2")).missedPrCloses).toEqual([]);
  });

  it("one pull request it cannot read does not stop the sweep", async () => {
    world = await startWorld({ env: { RECONCILE_INTERVAL_MS: "0" } });
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script(run);
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    // Another agent's PR lives in a repository that has since been deleted.
    const orphan = w.newIssue({ title: "Orphaned" });
    await w.deps.tasks.ensure({ issueId: orphan.id, identifier: orphan.identifier, title: orphan.title, issueUrl: orphan.url });
    await w.deps.tasks.update(orphan.id, () => ({ state: "working" }));
    await w.deps.tasks.update(orphan.id, () => ({ state: "pr-open", repo: { owner: OWNER, name: "deleted-repo" }, prNumber: 7, branch: "agent/x" }));
    w.github.mergePull(OWNER, REPO, (await w.deps.tasks.get(issue.id))?.prNumber as number);

    const report = await reconcile(w, "r1");
    expect(report.missedPrCloses).toEqual([issue.identifier]);
    expect(report.errors).toEqual([expect.stringMatching(new RegExp(`^${orphan.identifier} \\(${OWNER}/deleted-repo#7\\): `))]);
    await w.waitFor(async () => (await w.deps.tasks.get(issue.id))?.state === "merged", "the merge to be recorded");
    expect(w.logs.some((l) => l.includes("reconciler could not check an item") && l.includes("deleted-repo"))).toBe(true);
  });

  it("restarts a task stuck in a running state with no live job, once", async () => {
    world = await startWorld({ env: { RECONCILE_INTERVAL_MS: "0", JOB_LOCK_MS: "1000" } });
    const w = world;
    const issue = w.newIssue();
    await w.deps.tasks.ensure({ issueId: issue.id, identifier: issue.identifier, title: issue.title, issueUrl: issue.url });
    await w.deps.tasks.update(issue.id, () => ({ state: "working", jobId: "implement-lost", startedAt: new Date().toISOString() }));
    await new Promise((r) => setTimeout(r, 2_100));
    w.anthropic.script(run);
    const [first, second] = [await reconcile(w, "r1"), await reconcile(w, "r2")];
    expect(first.stuckTasks).toEqual([issue.identifier]);
    await w.waitFor(async () => (await w.deps.tasks.get(issue.id))?.state === "pr-open", "the repaired run");
    expect(second.stuckTasks.length).toBeLessThanOrEqual(1);
    // The task shows the PR just before the job finishes its last Linear updates.
    await w.waitFor(async () => (await w.deps.queues.implement.getJobCounts("completed")).completed === 1, "the repair job to finish");
    const counts = await w.deps.queues.implement.getJobCounts("completed", "failed", "active", "waiting", "delayed");
    expect(counts).toMatchObject({ completed: 1, failed: 0, active: 0, waiting: 0, delayed: 0 });
  });
});
