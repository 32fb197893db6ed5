import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_LABEL, linearIssuePayload } from "../fixtures/linear.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { GITHUB_SECRET, LINEAR_SECRET } from "../helpers/config.js";
import { keysUnder } from "../helpers/redis.js";
import { signLinear } from "../helpers/sign.js";
import { fuzzWebhooks, probeHeaderLimits, type FuzzReport } from "./webhook-fuzz.js";

/**
 * Every status a hostile request may get through `app.inject`, as observed:
 * - 400: malformed URL escapes (FST_ERR_BAD_URL), a Content-Length that lies about the body, a
 *   correctly signed Linear body that is not a JSON object;
 * - 401: missing, wrong or mismatched signature; a signed Linear body with a bad timestamp;
 * - 404: an unknown path or a method other than POST on a webhook path (Fastify answers 404, not 405);
 * - 413: a body over the 5 MiB limit (declared or streamed);
 * - 415: a Content-Type header Fastify cannot parse at all (checked before the handler runs).
 * 431 only comes from Node's HTTP parser, which inject bypasses: the socket test below covers it.
 */
const ALLOWED = [400, 401, 404, 413, 415];
const SEED = 0x5eed_f022;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

async function jobsInQueues(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of ["implement", "feedback", "revise", "lifecycle"] as const) {
    const counts = await t.deps.queues[name].getJobCounts();
    out[name] = Object.values(counts).reduce((a, b) => a + b, 0);
  }
  return out;
}

describe("webhook routes under hostile input", () => {
  let report: FuzzReport;

  it("2,000 generated hostile requests: none accepted, no 5xx, only expected statuses", async () => {
    report = await fuzzWebhooks({
      app: t.app,
      count: 2000,
      seed: SEED,
      secrets: { github: GITHUB_SECRET, linear: LINEAR_SECRET },
    });
    // Samples first: on failure they show the exact offending requests.
    expect(report.samplesOfAccepted, "accepted requests").toEqual([]);
    expect(report.samplesOf5xx, "5xx answers").toEqual([]);
    expect(report.samplesOfInjectErrors, "requests inject refused (generator bug)").toEqual([]);
    expect(report.samplesOfUnexpected, "answers outside what each case expects").toEqual([]);
    expect(report.accepted).toBe(0);
    expect(report.serverErrors).toBe(0);
    expect(report.unexpected).toBe(0);
    expect(report.sent).toBe(2000);
    const statuses = Object.keys(report.byStatus).map(Number);
    expect(statuses.filter((s) => !ALLOWED.includes(s))).toEqual([]);
    // Every kind of case ran and was mostly refused for its signature.
    expect(Object.keys(report.byKind).sort()).toEqual(
      [
        "content-type",
        "header-abuse",
        "hostile-body",
        "linear-bad-timestamp",
        "mutated-signed",
        "odd-path",
        "oversize-body",
        "wrong-method",
        "wrong-signature",
      ].sort(),
    );
    expect(report.byKind["oversize-body"]).toEqual({ 413: expect.any(Number) });
    expect(report.prototypePolluted).toBe(false);
  });

  it("left nothing behind: no jobs in any queue, no delivery markers", async () => {
    expect(report, "the fuzz run above must have completed").toBeDefined();
    expect(await jobsInQueues()).toEqual({ implement: 0, feedback: 0, revise: 0, lifecycle: 0 });
    expect(await keysUnder(t.prefix)).toEqual([]);
  });

  it("oversized heads get 431 over a real socket, malformed framing 400, and the server keeps serving", async () => {
    const keysBefore = (await keysUnder(t.prefix)).length;
    const address = await t.app.listen({ host: "127.0.0.1", port: 0 });
    const results = await probeHeaderLimits(address, { github: GITHUB_SECRET, linear: LINEAR_SECRET });
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect((await keysUnder(t.prefix)).length).toBe(keysBefore);
  });

  it("the app is not wedged: /healthz answers and a correctly signed Linear webhook is still accepted", async () => {
    const health = await t.app.inject({ url: "/healthz" });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: "ok" });
    const body = JSON.stringify(linearIssuePayload("create", { labels: [AGENT_LABEL] }));
    const res = await t.app.inject({
      method: "POST",
      url: "/webhooks/linear",
      payload: body,
      headers: {
        "content-type": "application/json; charset=utf-8",
        "linear-signature": signLinear(LINEAR_SECRET, body),
        "linear-event": "Issue",
        "linear-delivery": randomUUID(),
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: "accepted", intent: "implement" });
    expect(await t.deps.queues.implement.getJob(res.json().jobId)).toBeDefined();
  });
});
