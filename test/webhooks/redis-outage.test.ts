import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_LABEL, linearIssuePayload } from "../fixtures/linear.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { LINEAR_SECRET } from "../helpers/config.js";
import { type OwnRedis, startOwnRedis } from "../helpers/redis-server.js";
import { signLinear } from "../helpers/sign.js";

let redis: OwnRedis;
let t: TestApp;

beforeAll(async () => {
  redis = await startOwnRedis();
  t = await startTestApp({ REDIS_URL: redis.url });
});
afterAll(async () => {
  await t?.close();
  await redis?.stop();
});

function post() {
  const body = JSON.stringify(linearIssuePayload("create", { labels: [AGENT_LABEL], issueId: randomUUID() }));
  return t.app.inject({
    method: "POST",
    url: "/webhooks/linear",
    payload: body,
    headers: { "content-type": "application/json", "linear-signature": signLinear(LINEAR_SECRET, body) },
  });
}

describe("Redis outage", () => {
  it("answers 503 within a second while Redis is down, and accepts again once it returns", async () => {
    expect((await post()).statusCode).toBe(200);

    await redis.stop();
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const res = await post();
      const elapsed = performance.now() - started;
      expect(res.statusCode).toBe(503);
      expect(res.headers["retry-after"]).toBe("30");
      expect(res.json().error).toMatch(/Redis/);
      expect(elapsed).toBeLessThan(1_000);
    }
    const ready = await t.app.inject({ url: "/readyz" });
    expect(ready.statusCode).toBe(503);
    expect((await t.app.inject({ url: "/healthz" })).statusCode).toBe(200);

    await redis.start();
    let res = await post();
    for (let i = 0; i < 50 && res.statusCode !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await post();
    }
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe("accepted");
    expect((await t.app.inject({ url: "/readyz" })).statusCode).toBe(200);
    const job = await t.deps.queues.implement.getJob(res.json().jobId);
    expect(job?.data.kind).toBe("implement");
  });
});
