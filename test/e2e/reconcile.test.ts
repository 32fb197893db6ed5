import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ScriptedTurn } from "../fakes/anthropic/index.js";
import { newId, type PullRecord, repoKey } from "../fakes/github/state.js";
import type { FakeIssue } from "../fakes/linear/index.js";
import { git } from "../helpers/git-remote.js";
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

/** The sweep's PR reads since request `from`: `list o/r page n` (closed, by update, newest first) or `get o/r#n`. */
function pullReads(w: World, from: number): string[] {
  return w.github.requests.slice(from).flatMap((r) => {
    const list = /^\/repos\/([^/]+\/[^/]+)\/pulls$/.exec(r.path);
    const get = /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)$/.exec(r.path);
    if (r.method === "GET" && list) {
      expect(r.query).toMatchObject({ state: "closed", sort: "updated", direction: "desc", per_page: "100" });
      return [`list ${list[1]} page ${r.query.page}`];
    }
    return r.method === "GET" && get ? [`get ${get[1]}#${get[2]}`] : [];
  });
}

/** Pushes one commit on each branch to the world's bare remote (every fake repository reads it). */
async function pushBranches(w: World, branches: string[]): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), "awf-push-"));
  try {
    await git(dir, "clone", "-q", w.remote.url, ".");
    for (const branch of branches) {
      await git(dir, "checkout", "-q", "-B", branch, "origin/main");
      await writeFile(path.join(dir, `${branch}.txt`), `${branch}\n`);
      await git(dir, "add", "-A");
      await git(dir, "commit", "-q", "-m", branch);
      await git(dir, "push", "-q", "origin", branch);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A task whose agent opened PR `repo#prNumber` and now waits for review (as a run leaves it). */
async function taskWithPr(w: World, issue: FakeIssue, repo: string, prNumber: number) {
  await w.deps.tasks.ensure({ issueId: issue.id, identifier: issue.identifier, title: issue.title, issueUrl: issue.url });
  await w.deps.tasks.update(issue.id, () => ({ state: "working", teamId: w.team.id }));
  const prOpenedAt = new Date().toISOString();
  await w.deps.tasks.update(issue.id, () => ({ state: "pr-open", repo: { owner: OWNER, name: repo }, prNumber, branch: `b${prNumber}`, prOpenedAt }));
}

/** Opens a PR through the API, as the agent's run would have. */
async function openPull(w: World, repo: string, branch: string): Promise<number> {
  const { data } = await w.octokit.rest.pulls.create({ owner: OWNER, repo, head: branch, base: "main", title: branch });
  return data.number;
}

/** Closed PRs of other people, last updated at `updatedAt`: a repository's history, or a busy hour. */
function seedClosedPulls(w: World, n: number, updatedAt: string): void {
  const repo = w.github.state.repos.get(repoKey(OWNER, REPO))!;
  for (let i = 0; i < n; i++) {
    const pull: PullRecord = {
      id: newId(w.github.state),
      repoKey: repoKey(OWNER, REPO),
      number: repo.nextNumber++,
      title: `Someone else's change ${i}`,
      body: null,
      state: "closed",
      draft: false,
      merged: false,
      mergedAt: null,
      mergedBy: null,
      mergeCommitSha: null,
      closedAt: updatedAt,
      headOwner: OWNER,
      headRef: `other-${i}`,
      headSha: "0".repeat(40),
      baseRef: "main",
      baseSha: "0".repeat(40),
      user: "someone",
      maintainerCanModify: true,
      createdAt: updatedAt,
      updatedAt,
    };
    w.github.state.pulls.push(pull);
  }
}

/** Second-precision timestamp `ms` from now, as GitHub writes them. */
function githubTime(ms: number): string {
  return new Date(Date.now() + ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

async function implementJobsFor(w: World, issueId: string) {
  const jobs = await w.deps.queues.implement.getJobs(["waiting", "active", "delayed", "completed", "failed", "prioritized"]);
  return jobs.filter((j) => j?.data.issueId === issueId);
}

async function reconcile(w: World, id: string) {
  await w.deps.queues.reconcile.add("reconcile", { kind: "reconcile" }, { jobId: id });
  expect(await w.waitForJob(id, "reconcile" as never)).toBe("completed");
  return (await w.deps.queues.reconcile.getJob(id))?.returnvalue;
}

describe("reconciler", () => {
  it("starts a labelled issue whose webhook was lost, once, even when the webhook arrives late", async () => {
    world = await startWorld({ env: { RECONCILE_INTERVAL_MS: "0" } });
    const w = world;
    // The install: the first sweep runs before the issue is labelled.
    expect(await reconcile(w, "r0")).toMatchObject({ labelledWithoutTask: [], notAdopted: [] });
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
    const before = w.github.requests.length;
    expect((await reconcile(w, "r1")).missedPrCloses).toEqual([issue.identifier]);
    // Found by listing the repository's closed PRs, not by reading the PR itself.
    expect(pullReads(w, before)).toEqual([`list ${OWNER}/${REPO} page 1`]);
    await w.waitFor(async () => (await w.deps.tasks.get(issue.id))?.state === "merged", "the merge to be recorded");
    const stored = w.linear.store.getIssue(issue.id)!;
    expect(w.linear.store.workflowStates.get(stored.stateId)?.type).toBe("completed");
    const after = w.github.requests.length;
    expect((await reconcile(w, "r2")).missedPrCloses).toEqual([]);
    // No PR is left to watch, so the sweep asks GitHub nothing.
    expect(w.github.requests.slice(after)).toEqual([]);
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
    expect(report.errors).toEqual([expect.stringMatching(new RegExp(`^${OWNER}/deleted-repo \\(${orphan.identifier} #7\\): `))]);
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

  it("lists each repository's closed PRs once per sweep, and reads no PR one by one", async () => {
    world = await startWorld();
    const w = world;
    w.github.addRepo({ owner: OWNER, name: "gadgets", cloneUrl: w.remote.url, defaultBranch: "main" });
    await pushBranches(w, ["b1", "b2", "b3"]);
    const [a, b, c] = [w.newIssue({ title: "A" }), w.newIssue({ title: "B" }), w.newIssue({ title: "C" })];
    await taskWithPr(w, a, REPO, await openPull(w, REPO, "b1"));
    await taskWithPr(w, b, REPO, await openPull(w, REPO, "b2"));
    await taskWithPr(w, c, "gadgets", await openPull(w, "gadgets", "b3"));
    // B's PR is closed unmerged and the webhook is lost.
    await w.octokit.rest.pulls.update({ owner: OWNER, repo: REPO, pull_number: 2, state: "closed" });

    let from = w.github.requests.length;
    expect((await reconcile(w, "r1")).missedPrCloses).toEqual([b.identifier]);
    expect(pullReads(w, from).sort()).toEqual([`list ${OWNER}/gadgets page 1`, `list ${OWNER}/${REPO} page 1`]);
    await w.waitFor(async () => (await w.deps.tasks.get(b.id))?.state === "closed", "the close to be recorded");

    from = w.github.requests.length;
    expect(await reconcile(w, "r2")).toMatchObject({ missedPrCloses: [], errors: [] });
    expect(pullReads(w, from).sort()).toEqual([`list ${OWNER}/gadgets page 1`, `list ${OWNER}/${REPO} page 1`]);
    expect((await w.deps.tasks.get(a.id))?.state).toBe("pr-open");
  });

  it("pages back only as far as the last sweep, however long the repository's history", async () => {
    world = await startWorld();
    const w = world;
    seedClosedPulls(w, 150, githubTime(-7 * 24 * 3600_000));
    await pushBranches(w, ["b1"]);
    const issue = w.newIssue();
    const pr = await openPull(w, REPO, "b1");
    await taskWithPr(w, issue, REPO, pr);
    let from = w.github.requests.length;
    expect((await reconcile(w, "r1")).missedPrCloses).toEqual([]);
    // Last week's closes are older than the watched PR: the first page says so, and the walk stops.
    expect(pullReads(w, from)).toEqual([`list ${OWNER}/${REPO} page 1`]);

    // A busy hour: the agent's PR is merged a minute ago, then 150 other PRs are closed.
    w.github.mergePull(OWNER, REPO, pr);
    const merged = w.github.state.pulls.find((p) => p.number === pr)!;
    merged.updatedAt = merged.closedAt = merged.mergedAt = githubTime(-60_000);
    seedClosedPulls(w, 150, githubTime(0));
    from = w.github.requests.length;
    expect((await reconcile(w, "r2")).missedPrCloses).toEqual([issue.identifier]);
    // Page 2 holds the merge and reaches back past the last sweep, so there is no page 3.
    expect(pullReads(w, from)).toEqual([`list ${OWNER}/${REPO} page 1`, `list ${OWNER}/${REPO} page 2`]);
    await w.waitFor(async () => (await w.deps.tasks.get(issue.id))?.state === "merged", "the merge to be recorded");
  });

  it("watches every task, not only the 1,000 most recently updated", async () => {
    world = await startWorld();
    const w = world;
    await pushBranches(w, ["b1"]);
    const issue = w.newIssue();
    const pr = await openPull(w, REPO, "b1");
    await taskWithPr(w, issue, REPO, pr);
    await new Promise((r) => setTimeout(r, 5));
    // 1,000 newer tasks, long finished, push the watched one out of the 1,000 most recent.
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const id = `filler-${batch}-${i}`;
          await w.deps.tasks.ensure({ issueId: id, identifier: `OLD-${batch * 50 + i}`, title: "Done long ago", issueUrl: null });
          await w.deps.tasks.update(id, () => ({ state: "stopped" }));
        }),
      );
    }
    expect((await w.deps.tasks.list(1000)).some((t) => t.issueId === issue.id)).toBe(false);
    w.github.mergePull(OWNER, REPO, pr);
    expect((await reconcile(w, "r1")).missedPrCloses).toEqual([issue.identifier]);
    await w.waitFor(async () => (await w.deps.tasks.get(issue.id))?.state === "merged", "the merge to be recorded");
  });

  it("leaves issues labelled before the install alone, and starts those labelled after it", async () => {
    world = await startWorld();
    const w = world;
    const parked = w.newIssue({ title: "Parked under the label long ago" });
    const first = await reconcile(w, "r1");
    expect(first).toMatchObject({ labelledWithoutTask: [], notAdopted: [parked.identifier], errors: [] });
    expect(w.logs.some((l) => l.includes("first sweep") && l.includes(parked.identifier) && l.includes("RECONCILE_ADOPT_EXISTING"))).toBe(true);

    // Labelled after the install, and the webhook is lost: repaired.
    const fresh = w.newIssue({ title: "Labelled since" });
    w.anthropic.script(run);
    expect(await reconcile(w, "r2")).toMatchObject({ labelledWithoutTask: [fresh.identifier], notAdopted: [parked.identifier] });
    await w.waitFor(async () => (await w.deps.tasks.get(fresh.id))?.state === "pr-open", "the repaired run");
    expect(await w.deps.tasks.get(parked.id)).toBeNull();
    expect(await implementJobsFor(w, parked.id)).toEqual([]);

    // Once a sweep finds the label gone, adding it again is a labelling like any other.
    w.linear.store.getIssue(parked.id)!.labelIds = [];
    expect(await reconcile(w, "r3")).toMatchObject({ labelledWithoutTask: [], notAdopted: [] });
    w.linear.store.getIssue(parked.id)!.labelIds = [w.agentLabel.id];
    w.anthropic.script(run);
    expect((await reconcile(w, "r4")).labelledWithoutTask).toEqual([parked.identifier]);
    await w.waitFor(async () => (await w.deps.tasks.get(parked.id))?.state === "pr-open", "the relabelled run");
  });

  it("starts issues labelled before the install with RECONCILE_ADOPT_EXISTING=true", async () => {
    world = await startWorld({ env: { RECONCILE_ADOPT_EXISTING: "true" } });
    const w = world;
    const parked = w.newIssue({ title: "Parked under the label long ago" });
    w.anthropic.script(run);
    expect(await reconcile(w, "r1")).toMatchObject({ labelledWithoutTask: [parked.identifier], notAdopted: [] });
    await w.waitFor(async () => (await w.deps.tasks.get(parked.id))?.state === "pr-open", "the adopted run");
  });

  it("a first sweep that cannot read Linear records no install, so the next one is still the first", async () => {
    world = await startWorld();
    const w = world;
    const parked = w.newIssue({ title: "Parked under the label long ago" });
    w.linear.failNext(1, "internal", { operation: "AgentLabelledIssues" });
    const failed = await reconcile(w, "r1");
    expect(failed.errors).toEqual([expect.stringMatching(/^Linear issues with the agent label: /)]);
    expect(await reconcile(w, "r2")).toMatchObject({ labelledWithoutTask: [], notAdopted: [parked.identifier], errors: [] });
    expect(await implementJobsFor(w, parked.id)).toEqual([]);
  });
});
