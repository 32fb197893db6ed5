import { fork } from "node:child_process";
import { once } from "node:events";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createGitHubLimiter, createOctokit, type GitHub } from "../../src/github/octokit.js";
import { createLogger } from "../../src/logger.js";
import { type GitHubFake, startGitHubFake } from "../fakes/github/index.js";
import { cleanPrefix, keysUnder, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

const OWNER = "acme";
const REPO = "app";
const logger = createLogger({ level: "silent" });

interface Report {
  ok: number;
  refused: string[];
}

/** Starts one process per entry (its limiter on `prefix`, or none), sends "go" to all at once, and collects their reports. */
async function runWorkers(fake: GitHubFake, prefixes: Array<string | undefined>, count: number, limit: { requestsPerHour: number; windowMs: number }): Promise<Report[]> {
  const children = prefixes.map((prefix) =>
    fork(new URL("../helpers/github-limit-worker.ts", import.meta.url), [JSON.stringify({ redisUrl: REDIS_URL, prefix, githubUrl: fake.url, token: fake.token, owner: OWNER, repo: REPO, count, ...limit })], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    }),
  );
  try {
    await Promise.all(children.map((c) => once(c, "message")));
    const reports = children.map((c) => once(c, "message").then(([m]) => m as Report));
    for (const c of children) c.send("go");
    return await Promise.all(reports);
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  }
}

describe("GitHub limits shared by every worker process", () => {
  let fake: GitHubFake;
  const prefixes: string[] = [];
  const redisClients: Redis[] = [];
  const prefix = (label: string) => {
    const p = uniquePrefix(label);
    prefixes.push(p);
    return p;
  };
  const redis = () => {
    const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    redisClients.push(r);
    return r;
  };

  beforeAll(async () => {
    fake = await startGitHubFake();
    fake.addRepo({ owner: OWNER, name: REPO, cloneUrl: "file:///nonexistent/app.git" });
  });
  afterEach(async () => {
    for (const r of redisClients.splice(0)) r.disconnect();
    for (const p of prefixes.splice(0)) await cleanPrefix(p);
  });
  afterAll(async () => {
    await fake?.close();
  });

  it("two processes on one token together stay inside its limit, where each pacing only itself does not", { timeout: 60_000 }, async () => {
    const limit = { requestsPerHour: 12, windowMs: 1_000 };
    // Each process wants more than the whole limit (15 > 12) at once.
    fake.setRateLimit({ limit: 12, windowMs: 1_000 });
    const alone = await runWorkers(fake, [prefix("gh-own-a"), prefix("gh-own-b")], 15, limit);
    // The control: two limiters that share nothing, as every worker throttled before, go over.
    expect(fake.rateLimitExceeded).toBeGreaterThan(0);
    expect(alone.flatMap((r) => r.refused).join("\n")).toMatch(/API rate limit exceeded/);

    fake.setRateLimit({ limit: 12, windowMs: 1_000 });
    const refusedBefore = fake.rateLimitExceeded;
    const shared = prefix("gh-shared");
    const reports = await runWorkers(fake, [shared, shared], 15, limit);
    expect(reports.map((r) => r.refused)).toEqual([[], []]);
    expect(reports.map((r) => r.ok)).toEqual([15, 15]);
    expect(fake.rateLimitExceeded).toBe(refusedBefore);
    // The budget lives in Redis under the prefix, keyed by a hash and never by the token.
    const keys = await keysUnder(shared);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(" ")).not.toContain(fake.token);
  });

  it("each process paces an identity to the x-ratelimit-limit GitHub answers when it is below the setting", { timeout: 60_000 }, async () => {
    // The setting allows 1,000 a second: alone, a ceiling that would send all 30 at once.
    const limit = { requestsPerHour: 1_000, windowMs: 1_000 };
    fake.setRateLimit({ limit: 12, windowMs: 1_000 });
    const shared = prefix("gh-granted");
    // One answer (from a third process) teaches every process the identity's limit through Redis.
    const first = createOctokit({ token: fake.token, baseUrl: fake.url, logger, maxRetries: 0, writeSpacingMs: 0, limiter: createGitHubLimiter({ redis: redis(), prefix: shared, logger, ...limit }) });
    const answer = await first.rest.repos.get({ owner: OWNER, repo: REPO });
    expect(answer.headers["x-ratelimit-limit"]).toBe("12");
    expect((await keysUnder(shared)).some((k) => k.endsWith(":granted"))).toBe(true);
    fake.setRateLimit({ limit: 12, windowMs: 1_000 });
    const refusedBefore = fake.rateLimitExceeded;
    const started = Date.now();
    const reports = await runWorkers(fake, [shared, shared], 15, limit);
    expect(reports.map((r) => r.refused)).toEqual([[], []]);
    expect(reports.map((r) => r.ok)).toEqual([15, 15]);
    expect(fake.rateLimitExceeded).toBe(refusedBefore);
    // GitHub's 12 a second (a burst of 4, then 8 a second): 30 requests take over 3 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
  });

  it("the setting stays a ceiling when GitHub grants an identity more", async () => {
    fake.setRateLimit({ limit: 1_000, windowMs: 1_000 });
    const octokit = createOctokit({ token: fake.token, baseUrl: fake.url, logger, maxRetries: 0, writeSpacingMs: 0, limiter: createGitHubLimiter({ redis: redis(), prefix: prefix("gh-ceiling"), logger, requestsPerHour: 12, windowMs: 1_000 }) });
    const started = Date.now();
    await Promise.all(Array.from({ length: 20 }, () => octokit.rest.repos.get({ owner: OWNER, repo: REPO })));
    // The setting's 12 a second (a burst of 4, then 8 a second), not GitHub's 1,000: 20 take 2 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
  });

  it("a rate-limit refusal one process sees pauses the other until GitHub's reset", async () => {
    const shared = prefix("gh-pause");
    const octokit = (): GitHub => createOctokit({ token: fake.token, baseUrl: fake.url, logger, maxRetries: 0, writeSpacingMs: 0, limiter: createGitHubLimiter({ redis: redis(), prefix: shared, logger }) });
    const a = octokit();
    const b = octokit();
    fake.failNext(1, "rate-limit", { retryAfterSeconds: 2 });
    const refusal = await a.rest.repos.get({ owner: OWNER, repo: REPO }).catch((e: { status: number; response: { headers: Record<string, string> } }) => e);
    expect(refusal).toMatchObject({ status: 403 });
    const resetMs = Number((refusal as { response: { headers: Record<string, string> } }).response.headers["x-ratelimit-reset"]) * 1000;
    // The positive signal first: the pause is in Redis for everyone.
    expect((await keysUnder(shared)).some((k) => k.endsWith(":paused"))).toBe(true);
    const before = fake.requests.length;
    const answered = await b.rest.repos.get({ owner: OWNER, repo: REPO });
    expect(answered.status).toBe(200);
    // B's request reached GitHub only after the reset A was told of.
    expect(Date.now()).toBeGreaterThanOrEqual(resetMs);
    expect(fake.requests.length).toBe(before + 1);
  });

  it("a secondary limit's retry-after pauses every process that long", async () => {
    const shared = prefix("gh-secondary");
    const octokit = (): GitHub => createOctokit({ token: fake.token, baseUrl: fake.url, logger, maxRetries: 0, writeSpacingMs: 0, limiter: createGitHubLimiter({ redis: redis(), prefix: shared, logger }) });
    const a = octokit();
    const b = octokit();
    fake.failNext(1, "secondary-rate-limit", { retryAfterSeconds: 1 });
    const started = Date.now();
    await expect(a.rest.repos.get({ owner: OWNER, repo: REPO })).rejects.toMatchObject({ status: 403 });
    await b.rest.repos.get({ owner: OWNER, repo: REPO });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it("content-creating requests of one identity are spaced across processes", async () => {
    const shared = prefix("gh-writes");
    const times: number[] = [];
    const octokit = (): GitHub => {
      const o = createOctokit({ token: fake.token, baseUrl: fake.url, logger, maxRetries: 0, writeSpacingMs: 250, limiter: createGitHubLimiter({ redis: redis(), prefix: shared, logger }) });
      // Outermost hooks: the time each answer came back.
      o.hook.after("request", () => void times.push(Date.now()));
      o.hook.error("request", (err) => {
        times.push(Date.now());
        throw err;
      });
      return o;
    };
    const a = octokit();
    const b = octokit();
    // A status on a commit the fake does not know answers 422: it still reached GitHub as a write.
    const write = (o: GitHub) => o.rest.repos.createCommitStatus({ owner: OWNER, repo: REPO, sha: "0".repeat(40), state: "success" }).catch(() => undefined);
    await Promise.all([a, b, a, b, a, b].map(write));
    expect(times).toHaveLength(6);
    const sorted = [...times].sort((x, y) => x - y);
    const gaps = sorted.slice(1).map((t, i) => t - (sorted[i] as number));
    // Granted 250 ms apart; an answer's own latency shifts single gaps (on a loaded machine by tens
    // of ms), never the whole run: six shared writes span 1.25 s, while each process pacing only
    // itself would send them in pairs, 0.5 s in all.
    expect(sorted.at(-1)! - sorted[0]!).toBeGreaterThanOrEqual(1_150);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(100);
  });
});
