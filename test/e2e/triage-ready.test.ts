import { afterEach, describe, expect, it } from "vitest";
import { create, say } from "../helpers/turns.js";
import { isTriageRequest, triageIntercept, triageTurn } from "../helpers/triage.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

const REPORT = "## Summary\ngreet.txt now says hello, world.\n## Files\ngreet.txt\n## Decisions\nnone\n## Open points\nnone\n## Acceptance criteria\n1. met: cat greet.txt\n2. met: sh check.sh";
const CRITERIA = ["greet.txt reads `hello, world` (marker-crit-7f3a)", "`sh check.sh` passes"];

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** The agent's first request for an issue (not triage's): the prompt it started from. */
function firstAgentPrompt(w: World, title: string): string | undefined {
  const req = w.anthropic.requests.find((r) => !isTriageRequest(r.body) && String(r.body.messages?.[0]?.content?.[0]?.text ?? "").includes(`<title>${title}</title>`));
  return req ? String(req.body.messages[0].content[0].text) : undefined;
}

async function runToPr(w: World, labels = [w.agentLabel]): Promise<void> {
  const issue = w.newIssue({ labels });
  w.anthropic.script([create("greet.txt", "hello, world\n"), say(REPORT)]);
  const res = await w.labelIssue(issue);
  expect(res.body).toMatchObject({ status: "accepted", intent: "implement" });
  expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
  const { data: pulls } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "open" });
  expect(pulls.map((p) => p.head.ref)).toEqual(["agent/eng-1"]);
}

describe("triage before the first run: ready", () => {
  it("a ready verdict's criteria reach the agent's first prompt; the triage is recorded with its tokens and cost and booked to the spend ledger", async () => {
    const triage = triageIntercept({ triage: { "ENG-1": triageTurn({ verdict: "ready", criteria: CRITERIA, rationale: "Small, clear change to one file.", size: "small" }) } });
    world = await startWorld({ env: { AGENT_TRIAGE: "on" }, anthropic: { intercept: triage } });
    const w = world;
    await runToPr(w);

    // One triage call, with the triage model, before any agent turn.
    const triageCalls = w.anthropic.requests.filter((r) => isTriageRequest(r.body));
    expect(triageCalls).toHaveLength(1);
    expect(triageCalls[0]?.body.model).toBe("claude-haiku-4-5");
    expect(w.anthropic.requests.findIndex((r) => isTriageRequest(r.body))).toBe(0);
    expect(triage.requests.triage).toEqual(["ENG-1"]);

    const prompt = firstAgentPrompt(w, "Greet the world politely");
    expect(prompt).toContain("<criteria>");
    expect(prompt).toContain("1. greet.txt reads `hello, world` (marker-crit-7f3a)");
    expect(prompt).toContain("2. `sh check.sh` passes");
    expect(prompt).toContain("## Acceptance criteria");
    expect(prompt).not.toContain("<answer");

    const task = await w.deps.tasks.get(w.linear.store.getIssue("ENG-1")?.id ?? "");
    expect(task?.state).toBe("pr-open");
    expect(task?.triage).toMatchObject({ verdict: "ready", criteria: CRITERIA, size: "small", rationale: "Small, clear change to one file.", questions: [], model: "claude-haiku-4-5", round: 0 });
    const t = task?.triage;
    expect(t?.usage.input).toBeGreaterThan(0);
    expect(t?.usage.output).toBeGreaterThan(0);
    expect(t?.costUsd).toBeGreaterThan(0);
    // The task's usage and cost include triage's, on top of the agent's turns.
    expect(task?.costUsd).toBeGreaterThan(t?.costUsd ?? 0);
    const all = (u: { input: number; cacheWrite: number; cacheRead: number; output: number } | undefined) => (u ? u.input + u.cacheWrite + u.cacheRead + u.output : 0);
    expect(all(task?.usage)).toBeGreaterThan(all(t?.usage));
    expect(task?.usage.input).toBeGreaterThanOrEqual(t?.usage.input ?? Infinity);
    expect(await w.deps.spend.day()).toBeCloseTo(task?.costUsd ?? -1, 6);
    expect(await w.deps.spend.job(task?.jobId ?? "")).toBeCloseTo(task?.costUsd ?? -1, 6);
    expect(w.logs.some((l) => l.includes('"msg":"triage: ready"'))).toBe(true);
  });

  it("an issue labelled `agent:go` skips triage (no triage request) and runs", async () => {
    world = await startWorld({ env: { AGENT_TRIAGE: "on" }, anthropic: { intercept: triageIntercept({}) } });
    const w = world;
    const go = w.linear.store.seedLabel({ name: "Agent:Go" });
    await runToPr(w, [w.agentLabel, go]);
    // The negative check after the positive one: the PR opened, and no triage call was ever made.
    expect(w.anthropic.requests.filter((r) => isTriageRequest(r.body))).toHaveLength(0);
    const prompt = firstAgentPrompt(w, "Greet the world politely");
    expect(prompt).not.toContain("<criteria>");
    const task = await w.deps.tasks.get(w.linear.store.getIssue("ENG-1")?.id ?? "");
    expect(task?.triage ?? null).toBeNull();
    expect(w.logs.some((l) => l.includes("triage skipped") && l.includes("the issue carries the `agent:go` label"))).toBe(true);
  });

  it("AGENT_TRIAGE=off skips triage", async () => {
    world = await startWorld({ env: { AGENT_TRIAGE: "off" }, anthropic: { intercept: triageIntercept({}) } });
    const w = world;
    await runToPr(w);
    expect(w.anthropic.requests.filter((r) => isTriageRequest(r.body))).toHaveLength(0);
    expect((await w.deps.tasks.get(w.linear.store.getIssue("ENG-1")?.id ?? ""))?.triage ?? null).toBeNull();
    expect(w.logs.some((l) => l.includes("triage skipped") && l.includes("AGENT_TRIAGE is off"))).toBe(true);
  });

  it("a triage call that gives no verdict (a refusal) is booked and recorded, and the agent goes ahead with no criteria instead of failing", async () => {
    const refusal = { content: [{ type: "text" as const, text: "I cannot." }], stop_reason: "refusal" as const };
    const triage = triageIntercept({ triage: { "ENG-1": refusal } });
    world = await startWorld({ env: { AGENT_TRIAGE: "on" }, anthropic: { intercept: triage } });
    const w = world;
    await runToPr(w);
    expect(triage.requests.triage).toEqual(["ENG-1"]);
    const prompt = firstAgentPrompt(w, "Greet the world politely");
    expect(prompt).not.toContain("<criteria>");
    const task = await w.deps.tasks.get(w.linear.store.getIssue("ENG-1")?.id ?? "");
    expect(task).toMatchObject({ state: "pr-open", attempts: 1, triage: { verdict: "ready", criteria: [], round: 0 } });
    expect(task?.triage?.rationale).toMatch(/^triage gave no verdict: Triage model claude-haiku-4-5 declined/);
    expect(task?.triage?.costUsd).toBeGreaterThan(0);
    expect(await w.deps.spend.day()).toBeCloseTo(task?.costUsd ?? -1, 6);
    expect(w.logs.some((l) => l.includes("triage gave no verdict; going ahead as ready with no acceptance criteria"))).toBe(true);
  });
});
