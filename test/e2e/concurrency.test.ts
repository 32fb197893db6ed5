import { afterEach, describe, expect, it } from "vitest";
import type { ScriptedTurn } from "../fakes/anthropic/index.js";
import { type ChildWorkers, startChildWorkers } from "../helpers/child-workers.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

let world: World | undefined;
let children: ChildWorkers | undefined;
afterEach(async () => {
  await children?.close();
  await world?.close();
  children = undefined;
  world = undefined;
});

interface Call {
  issue: string;
  at: number;
  first: boolean;
}

/**
 * Every agent session makes two requests: the first asks for a slow shell command that changes a
 * file, the second ends the turn. The requests' times bound each session.
 */
function slowAgent(w: World, calls: Call[], sessions: number) {
  const turn = (req: any): ScriptedTurn => {
    const issue = /<issue id="([^"]+)"/.exec(req.messages[0].content[0].text)?.[1] ?? "?";
    const first = req.messages.length === 1;
    calls.push({ issue, at: Date.now(), first });
    return first
      ? { content: [{ type: "tool_use", name: "bash", input: { command: "sleep 0.6 && date +%s%N >> runs.txt" } }] }
      : { content: [{ type: "text", text: "## Summary\nRecorded a run." }] };
  };
  w.anthropic.script(Array.from({ length: sessions * 2 }, () => turn));
}

/** [start, end] of each session, by issue. */
function sessionsOf(calls: Call[]) {
  const open = new Map<string, number>();
  const out: Array<{ issue: string; start: number; end: number }> = [];
  for (const c of calls) {
    if (c.first) open.set(c.issue, c.at);
    else {
      out.push({ issue: c.issue, start: open.get(c.issue) as number, end: c.at });
      open.delete(c.issue);
    }
  }
  return out;
}

const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }) => a.start < b.end && b.start < a.end;

describe("no collisions across worker processes", () => {
  it("two processes never run two agents on one issue", async () => {
    world = await startWorld({ startWorkers: false, env: { AGENT_CONCURRENCY: "2" } });
    const w = world;
    const issue = w.newIssue();
    const calls: Call[] = [];
    slowAgent(w, calls, 2);
    children = await startChildWorkers(2, w.env);
    // Two implement jobs for one issue at once, for two distinct labelling events (a race the
    // per-issue deduplication would normally absorb); the per-issue lock must serialise them.
    // Both events are newer than any attempt, so neither is skipped as stale whichever runs first.
    const data = {
      kind: "implement" as const,
      issueId: issue.id,
      identifier: issue.identifier,
      title: issue.title,
      teamId: w.team.id,
      teamKey: "ENG",
      projectName: null,
      labelNames: ["agent"],
      url: issue.url,
      eventAt: new Date().toISOString(),
      source: { delivery: "test", receivedAt: new Date().toISOString(), actor: null },
    };
    await Promise.all([
      w.deps.queues.implement.add("implement", { ...data, eventAt: new Date(Date.now() + 60_000).toISOString() }, { jobId: "race-a" }),
      w.deps.queues.implement.add("implement", { ...data, eventAt: new Date(Date.now() + 120_000).toISOString() }, { jobId: "race-b" }),
    ]);
    // A failure names the job's own reason, so a rare one can be understood from the CI log.
    for (const id of ["race-a", "race-b"]) {
      const end = await w.waitForJob(id, "implement", 30_000);
      expect(end, (await w.deps.queues.implement.getJob(id))?.failedReason).toBe("completed");
    }
    const sessions = sessionsOf(calls);
    expect(sessions).toHaveLength(2);
    expect(overlaps(sessions[0]!, sessions[1]!)).toBe(false);
    const { data: pulls } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all" });
    expect(pulls).toHaveLength(1);
  });

  it("the repository limit holds across two processes, and the waiting issue says why", async () => {
    world = await startWorld({
      startWorkers: false,
      env: { AGENT_CONCURRENCY: "2" },
      routing: { repos: { [`${OWNER}/${REPO}`]: { checkCommand: "sh check.sh", maxAgents: 1 } } },
    });
    const w = world;
    const issues = [w.newIssue({ title: "First" }), w.newIssue({ title: "Second" })];
    const calls: Call[] = [];
    slowAgent(w, calls, 2);
    children = await startChildWorkers(2, w.env);
    const jobs = await Promise.all(issues.map((i) => w.labelIssue(i)));
    for (const j of jobs) expect(await w.waitForJob(j.body.jobId as string, "implement", 30_000)).toBe("completed");
    const sessions = sessionsOf(calls);
    expect(sessions.map((s) => s.issue).sort()).toEqual(["ENG-1", "ENG-2"]);
    expect(overlaps(sessions[0]!, sessions[1]!)).toBe(false);
    const waitingNotes = w.linear.requests
      .filter((r) => r.operationName === "updateComment" || r.operationName === "createComment")
      .map((r) => String((r.variables.input as { body?: string }).body ?? ""))
      .filter((b) => b.includes("waiting:"));
    // While it waits, a job rechecks its slot through Redis only: the comment said "reading the
    // issue" once per issue, not again at every recheck.
    const reading = w.linear.requests.filter(
      (r) => r.operationName === "updateComment" && String((r.variables.input as { body?: string }).body).includes("reading the issue"),
    );
    expect(reading).toHaveLength(2);
    expect(waitingNotes.some((b) => b.includes(`${OWNER}/${REPO} already has 1 agent at work (its limit); position 1 in line`)), waitingNotes.join("\n---\n")).toBe(true);
  });
});
