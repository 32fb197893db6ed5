import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDeps, type Deps } from "../../src/deps.js";
import { classifyRequest } from "../../src/linear/request-class.js";
import { type FakeIssue, type LinearFake, type LinearFakeRequest, startLinearFake } from "../fakes/linear/index.js";
import { testConfig } from "../helpers/config.js";
import { cleanPrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

let fake: LinearFake;
let issue: FakeIssue;
let prefix: string;
let deps: Deps[] = [];

beforeEach(async () => {
  fake = await startLinearFake({ apiKey: "lin_api_budget_test" });
  const team = fake.store.seedTeam({ key: "ENG", name: "Engineering" });
  issue = fake.store.seedIssue({ teamId: team.id, title: "Budgets" });
  prefix = uniquePrefix("budget");
});
afterEach(async () => {
  await Promise.all(deps.map((d) => d.close()));
  deps = [];
  await fake.close();
  await cleanPrefix(prefix);
});

/** Two service processes' worth of deps (each its own Redis connections) on one API key. */
async function twoProcesses(perHour: number, burst: number): Promise<[Deps, Deps]> {
  const config = testConfig({
    REDIS_PREFIX: prefix,
    LINEAR_API_KEY: fake.apiKey,
    LINEAR_API_URL: fake.url,
    GITHUB_TOKEN: "ghp_unused",
    ANTHROPIC_API_KEY: "sk-ant-unused",
    LINEAR_REQUESTS_PER_HOUR: String(perHour),
    LINEAR_REQUEST_BURST: String(burst),
  });
  deps = [await createDeps(config, { roles: ["server"] }), await createDeps(config, { roles: ["server"] })];
  return deps as [Deps, Deps];
}

const linear = (d: Deps) => d.clients!.linear();
const readIssue = (d: Deps) => linear(d).issue(issue.id);
const editComment = (d: Deps, id: string, body: string) => linear(d).updateComment(id, { body });

/**
 * How far the busiest window of arrivals exceeds the budget: at most burst + rate × window, plus
 * one request and 200 ms of arrival jitter (a request granted on time can reach the fake late on a
 * loaded machine and land next to the following one). Two processes pacing only themselves send
 * at twice the rate: their 20 requests land within 0.7 s, about seven over.
 */
function worstWindow(requests: LinearFakeRequest[], perSecond: number, burst: number): number {
  let worst = 0;
  for (let i = 0; i < requests.length; i++) {
    for (let j = i; j < requests.length; j++) {
      const allowed = burst + perSecond * (((requests[j]?.at ?? 0) - (requests[i]?.at ?? 0) + 200) / 1000) + 1;
      worst = Math.max(worst, j - i + 1 - allowed);
    }
  }
  return worst;
}

describe("the Linear request budget is one per token, shared by every process through Redis", () => {
  it("two processes together stay inside a small budget", async () => {
    const [a, b] = await twoProcesses(36_000, 3); // 10 a second, 3 back to back
    const calls = Array.from({ length: 10 }, () => [readIssue(a), readIssue(b)]).flat();
    const got = await Promise.all(calls);
    expect(got.every((i) => i.title === "Budgets")).toBe(true);
    expect(fake.requests).toHaveLength(20);
    // 20 requests at 10 a second after a burst of 3: the whole run spans at least 1.7 s.
    expect(worstWindow(fake.requests, 10, 3)).toBeLessThanOrEqual(0);
    expect((fake.requests.at(-1)?.at ?? 0) - (fake.requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(1_600);
  });

  it("a critical call goes before every status update already waiting, even in another process", async () => {
    const [a, b] = await twoProcesses(36_000, 4);
    const comments = Array.from({ length: 12 }, (_, i) => fake.store.addComment({ issueId: issue.id, body: `status ${i}` }));
    const statuses = comments.map((c, i) => editComment(a, c.id, `status ${i} edited`));
    await waitUntil(() => fake.requests.length >= 2, "the first status edits to land");
    const askedAt = fake.requests.length;
    const critical = await readIssue(b);
    expect(critical.title).toBe("Budgets");
    const position = fake.requests.findIndex((r) => r.operationName === "issue");
    // At most the status edit already granted when the critical call asked got in before it.
    expect(position - askedAt).toBeLessThanOrEqual(1);
    await Promise.all(statuses);
    expect(fake.requests.filter((r) => r.operationName === "updateComment")).toHaveLength(12);
  });

  it("status updates of one thing waiting together are coalesced: the latest lands, every caller is answered", async () => {
    const [a] = await twoProcesses(36_000, 1);
    const comment = fake.store.addComment({ issueId: issue.id, body: "v0" });
    // The first read takes the only token; the edits queue behind the budget meanwhile.
    const first = readIssue(a);
    const edits = [1, 2, 3, 4, 5].map((v) => editComment(a, comment.id, `v${v}`));
    await first;
    const answers = await Promise.all(edits);
    expect(answers.every((r) => r.success)).toBe(true);
    const sent = fake.requests.filter((r) => r.operationName === "updateComment");
    expect(sent.length).toBeLessThan(5);
    expect(fake.store.comments.get(comment.id)?.body).toBe("v5");
  });

  it("Linear's 429 pauses every process until its reset", async () => {
    const [a, b] = await twoProcesses(360_000, 10);
    fake.failNext(1, "ratelimited", { retryAfterSeconds: 1, status: 429 });
    const first = readIssue(a);
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      await waitUntil(async () => (await redis.keys(`${prefix}:linear-budget:*:paused`)).length > 0, "the budget to be paused");
    } finally {
      redis.disconnect();
    }
    const limitedAt = fake.requests[0]?.at ?? 0;
    const other = await readIssue(b);
    expect(other.title).toBe("Budgets");
    expect((await first).title).toBe("Budgets");
    const after = fake.requests.slice(1);
    expect(after).toHaveLength(2);
    // Nothing reached Linear, from either process, before the reset it named (1 s).
    for (const r of after) expect(r.at - limitedAt).toBeGreaterThanOrEqual(950);
  });
});

describe("request classes", () => {
  const mutation = (name: string) => `mutation ${name}($input: X!) { ${name}(input: $input) { success } }`;
  it("puts reads, moves, links and closing activities first; coalesces plans, chatter and comment edits", () => {
    expect(classifyRequest("query issue($id: String!) { issue(id: $id) { id } }", { id: "i" })).toEqual({ priority: "critical" });
    expect(classifyRequest(mutation("updateIssue"), { id: "i", input: { stateId: "s" } })).toEqual({ priority: "critical" });
    expect(classifyRequest(mutation("createAttachment"), { input: {} })).toEqual({ priority: "critical" });
    expect(classifyRequest(mutation("createAgentActivity"), { input: { agentSessionId: "s", content: { type: "response", body: "Stopped." } } })).toEqual({ priority: "critical" });
    expect(classifyRequest(mutation("createAgentActivity"), { input: { agentSessionId: "s", content: { type: "action", action: "Pushed", parameter: "b" } } })).toEqual({ priority: "status" });
    expect(classifyRequest(mutation("createAgentActivity"), { input: { agentSessionId: "s", content: { type: "thought", body: "turn 3" }, ephemeral: true } })).toEqual({ priority: "status", coalesceKey: "thought:s" });
    expect(classifyRequest(mutation("updateAgentSession"), { id: "s", input: { plan: [] } })).toEqual({ priority: "status", coalesceKey: "plan:s" });
    expect(classifyRequest(mutation("updateAgentSession"), { id: "s", input: { plan: [], addedExternalUrls: [] } })).toEqual({ priority: "critical" });
    expect(classifyRequest(mutation("updateComment"), { id: "c", input: { body: "x" } })).toEqual({ priority: "status", coalesceKey: "comment:c" });
  });
});

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
