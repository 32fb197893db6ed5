import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { githubExample, prCommentExample } from "../fixtures/github.js";
import { AGENT_LABEL, BUG_LABEL, linearIssuePayload } from "../fixtures/linear.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { GITHUB_SECRET, LINEAR_SECRET } from "../helpers/config.js";
import { createLogger } from "../../src/logger.js";
import { keysUnder } from "../helpers/redis.js";
import { signGitHub, signLinear } from "../helpers/sign.js";

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t.close();
});

function postGitHub(
  event: string,
  payload: unknown,
  opts: { delivery?: string; secret?: string; headers?: Record<string, string> } = {},
) {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  return t.app.inject({
    method: "POST",
    url: "/webhooks/github",
    payload: body,
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": opts.delivery ?? randomUUID(),
      "x-hub-signature-256": signGitHub(opts.secret ?? GITHUB_SECRET, body),
      "user-agent": "GitHub-Hookshot/abc123",
      ...opts.headers,
    },
  });
}

function postLinear(payload: unknown, opts: { secret?: string; headers?: Record<string, string> } = {}) {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  return t.app.inject({
    method: "POST",
    url: "/webhooks/linear",
    payload: body,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "linear-signature": signLinear(opts.secret ?? LINEAR_SECRET, body),
      "linear-event": "Issue",
      "linear-delivery": randomUUID(),
      ...opts.headers,
    },
  });
}

async function jobCounts() {
  const counts = await Promise.all(
    [t.deps.queues.implement, t.deps.queues.feedback, t.deps.queues.lifecycle].map((q) =>
      q.getJobCounts("waiting", "active", "delayed", "completed", "failed", "prioritized"),
    ),
  );
  return counts.map((c) => Object.values(c).reduce((a, b) => a + b, 0)).reduce((a, b) => a + b, 0);
}

describe("GitHub webhook route", () => {
  const acted: Array<[string, () => Record<string, any>, string]> = [
    ["issue_comment", prCommentExample, "feedback"],
    [
      "pull_request_review",
      () => Object.assign(githubExample("pull_request_review", "submitted"), {}),
      "feedback",
    ],
    [
      "pull_request_review_comment",
      () => githubExample("pull_request_review_comment", "created", 1),
      "feedback",
    ],
    ["pull_request", () => githubExample("pull_request", "closed"), "lifecycle"],
  ];

  for (const [event, make, queue] of acted) {
    it(`${event}: a signed real payload is accepted with 202 and becomes one job`, async () => {
      const payload = make();
      if (event === "pull_request_review") payload.review.body = "@agent please add tests";
      const res = await postGitHub(event, payload);
      expect(res.statusCode).toBe(202);
      const body = res.json();
      expect(body.status).toBe("accepted");
      const q = t.deps.queues[queue as "feedback" | "lifecycle"];
      const job = await q.getJob(body.jobId);
      expect(job?.data).toMatchObject({
        repo: { owner: payload.repository.owner.login, name: payload.repository.name },
      });
      expect(JSON.stringify(job?.data)).not.toContain(GITHUB_SECRET);
    });
  }

  it("the same delivery sent three times yields exactly one job", async () => {
    const payload = prCommentExample();
    const delivery = randomUUID();
    const answers = await Promise.all(
      [1, 2, 3].map(() => postGitHub("issue_comment", payload, { delivery })),
    );
    const codes = answers.map((r) => r.statusCode).sort();
    expect(codes).toEqual([200, 200, 202]);
    expect(await jobCounts()).toBe(1);
    // A later redelivery answers with the job the first one created.
    const again = await postGitHub("issue_comment", payload, { delivery });
    expect(again.json()).toEqual({
      status: "duplicate",
      jobId: answers.find((r) => r.statusCode === 202)?.json().jobId,
    });
  });

  it("a different delivery of the same comment still collapses into the same job", async () => {
    const payload = prCommentExample();
    const a = await postGitHub("issue_comment", payload);
    const b = await postGitHub("issue_comment", payload);
    expect(a.json().jobId).toBe(b.json().jobId);
    expect(await jobCounts()).toBe(1);
  });

  it("ignored events answer 200 with a reason and enqueue nothing", async () => {
    const res = await postGitHub("pull_request", githubExample("pull_request", "opened"));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ignored", reason: "GitHub pull_request.opened is not acted on" });
    const ping = await postGitHub("ping", { zen: "Keep it logically awesome.", hook_id: 1 });
    expect(ping.json()).toEqual({ status: "ok", reason: "pong" });
    expect(await jobCounts()).toBe(0);
  });

  it("rejects forged, missing and malformed requests and writes nothing to Redis", async () => {
    const payload = prCommentExample();
    const forged = await postGitHub("issue_comment", payload, { secret: "not-the-secret" });
    expect(forged.statusCode).toBe(401);
    const missing = await t.app.inject({
      method: "POST",
      url: "/webhooks/github",
      payload: JSON.stringify(payload),
      headers: {
        "content-type": "application/json",
        "x-github-event": "issue_comment",
        "x-github-delivery": randomUUID(),
      },
    });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error).toMatch(/X-Hub-Signature-256/);
    const tampered = JSON.stringify(payload);
    const sig = signGitHub(GITHUB_SECRET, tampered);
    const changed = await t.app.inject({
      method: "POST",
      url: "/webhooks/github",
      payload: tampered.replace(payload.comment.body, "rm -rf /"),
      headers: {
        "content-type": "application/json",
        "x-github-event": "issue_comment",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": sig,
      },
    });
    expect(changed.statusCode).toBe(401);
    const malformed = await postGitHub("issue_comment", '{"action": "created", ');
    expect(malformed.statusCode).toBe(400);
    const noEvent = await postGitHub("issue_comment", payload, { headers: { "x-github-event": "" } });
    expect(noEvent.statusCode).toBe(400);
    const form = await postGitHub("issue_comment", payload, {
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.statusCode).toBe(415);
    const big = `{"pad":"${"x".repeat(5 * 1024 * 1024)}"}`;
    const tooBig = await postGitHub("issue_comment", big);
    expect(tooBig.statusCode).toBe(413);
    expect(await keysUnder(t.prefix)).toEqual([]);
  });
});

describe("Linear webhook route", () => {
  it("create with the agent label → implement job; Linear gets the 200 it requires", async () => {
    const p = linearIssuePayload("create", { labels: [AGENT_LABEL] });
    const res = await postLinear(p);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ status: "accepted", intent: "implement", merged: false });
    const job = await t.deps.queues.implement.getJob(body.jobId);
    expect(job?.data).toMatchObject({ issueId: p.data.id, identifier: "ENG-42", teamKey: "ENG" });
  });

  it("update adding the label → implement; update removing it → cancel on the lifecycle queue", async () => {
    const added = linearIssuePayload("update", {
      labels: [AGENT_LABEL, BUG_LABEL],
      updatedFrom: { labelIds: [BUG_LABEL.id] },
    });
    const a = await postLinear(added);
    expect(a.json().intent).toBe("implement");
    const removed = linearIssuePayload("update", {
      issueId: added.data.id,
      labels: [BUG_LABEL],
      updatedFrom: { labelIds: [AGENT_LABEL.id, BUG_LABEL.id] },
    });
    const r = await postLinear(removed);
    expect(r.statusCode).toBe(200);
    expect(r.json().intent).toBe("cancel");
    const job = await t.deps.queues.lifecycle.getJob(r.json().jobId);
    expect(job?.data).toMatchObject({ kind: "cancel", issueId: added.data.id, reason: "label-removed" });
  });

  it("Linear's retry of the same event (re-signed, new timestamp) does not duplicate work", async () => {
    const p = linearIssuePayload("create", { labels: [AGENT_LABEL] });
    const first = await postLinear(p);
    const retry = await postLinear({ ...p, webhookTimestamp: Date.now() + 5 });
    expect(first.json().status).toBe("accepted");
    expect(retry.json()).toEqual({ status: "duplicate", jobId: first.json().jobId });
    // A fresh labelling event while the first job still waits is merged into it.
    const relabel = await postLinear(
      linearIssuePayload("create", {
        labels: [AGENT_LABEL],
        issueId: p.data.id,
        updatedAt: new Date(Date.now() + 1000).toISOString(),
      }),
    );
    expect(relabel.json()).toMatchObject({ status: "accepted", merged: true, jobId: first.json().jobId });
    expect(await jobCounts()).toBe(1);
  });

  it("an issue without the label is acknowledged and ignored", async () => {
    const res = await postLinear(linearIssuePayload("create", { labels: [BUG_LABEL] }));
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe("ignored");
    expect(await jobCounts()).toBe(0);
  });

  it("rejects bad signature, stale timestamp, missing header, malformed JSON and oversized bodies; Redis untouched", async () => {
    const p = linearIssuePayload("create", { labels: [AGENT_LABEL] });
    expect((await postLinear(p, { secret: "wrong" })).statusCode).toBe(401);
    const stale = linearIssuePayload("create", {
      labels: [AGENT_LABEL],
      webhookTimestamp: Date.now() - 61_000,
    });
    const staleRes = await postLinear(stale);
    expect(staleRes.statusCode).toBe(401);
    expect(staleRes.json().error).toMatch(/60-second/);
    const { webhookTimestamp: _drop, ...noTimestamp } = p;
    expect((await postLinear(noTimestamp)).statusCode).toBe(401);
    const body = JSON.stringify(p);
    const missing = await t.app.inject({
      method: "POST",
      url: "/webhooks/linear",
      payload: body,
      headers: { "content-type": "application/json" },
    });
    expect(missing.statusCode).toBe(401);
    expect((await postLinear("{not json")).statusCode).toBe(400);
    expect((await postLinear(`{"pad":"${"y".repeat(5 * 1024 * 1024 + 10)}"}`)).statusCode).toBe(413);
    expect(await keysUnder(t.prefix)).toEqual([]);
  });
});

describe("signed but unusable bodies", () => {
  it("a signed Linear body whose timestamp is 0, a string or an array is refused as stale", async () => {
    const p = linearIssuePayload("create", { labels: [AGENT_LABEL] });
    for (const ts of [0, String(Date.now()), [Date.now()], false, null]) {
      const res = await postLinear({ ...p, webhookTimestamp: ts });
      expect(res.statusCode, JSON.stringify(ts)).toBe(401);
    }
    expect(await keysUnder(t.prefix)).toEqual([]);
  });

  it("signed payloads missing the fields we read get 400 naming the field, never 500", async () => {
    const gh = await postGitHub("issue_comment", { action: "created", repository: { name: "r", owner: { login: "o" } } });
    expect(gh.statusCode).toBe(400);
    expect(gh.json().error).toMatch(/issue_comment.created payload: issue/);
    const lin = await postLinear({
      type: "Issue",
      action: "create",
      webhookTimestamp: Date.now(),
      data: { id: "x", identifier: "ENG-1", title: "t", labels: "agent" },
    });
    expect(lin.statusCode).toBe(400);
    expect(lin.json().error).toMatch(/Linear Issue payload: data.labels/);
    expect(await keysUnder(t.prefix)).toEqual([]);
  });
});

describe("health", () => {
  it("/healthz and /readyz answer while Redis is up", async () => {
    expect((await t.app.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
    const ready = await t.app.inject({ url: "/readyz" });
    expect(ready.statusCode).toBe(200);
  });
});

describe("webhook logs", () => {
  it("every line about a delivery names it, and no line carries the signature", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: "info", destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
    await t.close();
    t = await startTestApp({}, { logger });

    const delivery = randomUUID();
    const payload = prCommentExample();
    const body = JSON.stringify(payload);
    const res = await postGitHub("issue_comment", body, { delivery });
    expect(res.statusCode).toBe(202);
    const about = lines.filter((l) => l.delivery === delivery);
    expect(about.map((l) => l.msg)).toEqual(["webhook accepted", "request completed"]);
    expect(about[1]).toMatchObject({ statusCode: 202, req: { method: "POST", url: "/webhooks/github" } });
    expect(about.every((l) => l.event === "issue_comment")).toBe(true);
    expect(about.find((l) => l.msg === "webhook accepted")).toMatchObject({ jobId: res.json().jobId });

    const linearDelivery = randomUUID();
    const linear = await postLinear(linearIssuePayload("create", { labels: [AGENT_LABEL] }), {
      headers: { "linear-delivery": linearDelivery },
    });
    expect(linear.statusCode).toBe(200);
    const accepted = lines.find((l) => l.msg === "webhook accepted" && l.delivery === linearDelivery);
    expect(accepted).toMatchObject({ event: "Issue", action: "Issue.create", jobId: linear.json().jobId });
    expect(accepted?.deliveryKey).toMatch(/^[0-9a-f]{32}$/);

    // Probes stay out of the info log.
    await t.app.inject({ url: "/healthz" });
    expect(lines.some((l) => (l.req as { url?: string } | undefined)?.url === "/healthz")).toBe(false);

    const text = lines.map((l) => JSON.stringify(l)).join("\n");
    expect(text).not.toContain(signGitHub(GITHUB_SECRET, body).slice(7));
    expect(text).not.toContain(GITHUB_SECRET);
  });
});
