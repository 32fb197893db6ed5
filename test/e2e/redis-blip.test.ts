import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { readCounters } from "../../src/metrics/cluster-counters.js";
import { type OwnRedis, startOwnRedis } from "../helpers/redis-server.js";
import { bash, create, say } from "../helpers/turns.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

const PAUSE_MS = 5_000;

let world: World | undefined;
let own: OwnRedis | undefined;
let pauser: Redis | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
  pauser?.disconnect();
  pauser = undefined;
  await own?.stop();
  own = undefined;
});

/** The time of the worker's "agent turn" log line for `turn`, if it was logged. */
function turnLoggedAt(w: World, turn: number): number | undefined {
  for (const line of w.logs) {
    const entry = JSON.parse(line) as { msg?: string; turn?: number; time?: number };
    if (entry.msg === "agent turn" && entry.turn === turn) return entry.time;
  }
  return undefined;
}

describe("a Redis blip during an agent turn", () => {
  it("holds the turn's task, spend and turn writes until Redis answers again: the run finishes with one PR", async () => {
    // Its own redis-server: CLIENT PAUSE stops every client of the server, other test files' too.
    own = await startOwnRedis();
    world = await startWorld({ env: { REDIS_URL: own.url } });
    const w = world;
    const issue = w.newIssue();
    w.anthropic.script([
      create("greet.txt", "hello, world\n"),
      // The turn during which Redis goes away: turn 3 ends (and writes) while it is paused.
      bash("sleep 2 && sh check.sh && echo checks-ok"),
      say("## Summary\ngreet.txt now says hello, world."),
    ]);

    const res = await w.labelIssue(issue);
    expect(res.status).toBe(200);
    const jobId = res.body.jobId as string;
    await w.waitFor(async () => (await w.deps.tasks.get(issue.id))?.step?.startsWith("turn 2: bash"), "turn 2 to be recorded");

    pauser = new Redis(own.url, { maxRetriesPerRequest: null });
    const pausedAt = Date.now();
    // ALL, not WRITE: a failover or a latency spike answers nothing, reads included.
    expect(await pauser.call("CLIENT", "PAUSE", String(PAUSE_MS), "ALL")).toBe("OK");
    // Answered only once the pause is over (the pausing client is paused too).
    await pauser.ping();
    const resumedAt = Date.now();
    expect(resumedAt - pausedAt).toBeGreaterThanOrEqual(PAUSE_MS - 100);

    const state = await w.waitForJob(jobId, "implement", 30_000);
    const job = await w.deps.queues.implement.getJob(jobId);
    expect({ state, failedReason: job?.failedReason ?? null }).toEqual({ state: "completed", failedReason: null });
    // Turn 3 ended inside the pause, so its writes were sent while Redis answered nothing.
    const turn3 = turnLoggedAt(w, 3);
    expect(turn3).toBeGreaterThanOrEqual(pausedAt);
    expect(turn3).toBeLessThan(resumedAt);

    // First attempt, no rerun of the agent: three model calls, one PR, every turn recorded.
    expect(job?.attemptsMade).toBe(1);
    expect(w.anthropic.requests).toHaveLength(3);
    const { data: pulls } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all" });
    expect(pulls).toHaveLength(1);
    expect(pulls[0]?.head.ref).toBe("agent/eng-1");
    const task = await w.deps.tasks.get(issue.id);
    expect(task).toMatchObject({ state: "pr-open", turns: 3, prNumber: pulls[0]?.number });
    expect(task?.costUsd).toBeGreaterThan(0);
    expect(await w.deps.spend.day()).toBeCloseTo(task?.costUsd ?? NaN, 9);
    expect((await readCounters(w.deps.redis, w.deps.config.redisPrefix)).turns).toBe(3);
  }, 60_000);
});
