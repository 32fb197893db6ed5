import { InternalLinearError, LinearError, RatelimitedLinearError } from "@linear/sdk";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLinearClient } from "../../src/linear/client.js";
import { type FakeIssue, type LinearFake, startLinearFake } from "../fakes/linear/index.js";

let fake: LinearFake;
let issue: FakeIssue;
// A fake per test, so faults one test leaves queued cannot reach the next.
beforeEach(async () => {
  fake = await startLinearFake({ apiKey: "lin_api_client_test" });
  const team = fake.store.seedTeam({ key: "ENG", name: "Engineering" });
  issue = fake.store.seedIssue({ teamId: team.id, title: "Rate limits" });
});
afterEach(async () => {
  await fake.close();
});

const client = (p: { signal?: AbortSignal; baseDelayMs?: number } = {}) =>
  createLinearClient({ apiKey: fake.apiKey, apiUrl: fake.url, baseDelayMs: 20, ...p });

const RAW_ISSUE = "query RawIssue($id: String!) { issue(id: $id) { id title } }";

describe("Linear client: RATELIMITED (HTTP 400) is waited out and retried", () => {
  it("retries an SDK model query and answers as if nothing happened", async () => {
    fake.failNext(2, "ratelimited");
    const got = await client().issue(issue.id);
    expect(got.title).toBe("Rate limits");
    expect(fake.requests.map((r) => r.operationName)).toEqual(["issue", "issue", "issue"]);
  });

  it("retries a raw query through the client's GraphQL client", async () => {
    fake.failNext(2, "ratelimited");
    const res = await client().client.rawRequest<{ issue: { title: string } }, { id: string }>(RAW_ISSUE, { id: issue.id });
    expect(res.data?.issue.title).toBe("Rate limits");
    expect(fake.requests.map((r) => r.operationName)).toEqual(["RawIssue", "RawIssue", "RawIssue"]);
  });

  it("honours retry-after over its own backoff", async () => {
    fake.failNext(1, "ratelimited", { retryAfterSeconds: 1 });
    const started = Date.now();
    await client({ baseDelayMs: 1 }).issue(issue.id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(fake.requests).toHaveLength(2);
  });

  it("gives up after four retries with Linear's own error", async () => {
    fake.failNext(5, "ratelimited");
    const error = await client({ baseDelayMs: 1 }).issue(issue.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RatelimitedLinearError);
    expect(fake.requests).toHaveLength(5);
  });

  it("does not retry other errors", async () => {
    fake.failNext(1, "internal");
    const error = await client().issue(issue.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalLinearError);
    expect(fake.requests).toHaveLength(1);
  });

  it("stops waiting when the job's signal aborts", async () => {
    fake.failNext(1, "ratelimited", { retryAfterSeconds: 30 });
    const ctrl = new AbortController();
    const pending = client({ signal: ctrl.signal }).issue(issue.id).catch((e: unknown) => e);
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1));
    const reason = new Error("stopped");
    ctrl.abort(reason);
    // Wrapped as the SDK wraps an aborted fetch.
    const error = await pending;
    expect(error).toBeInstanceOf(LinearError);
    expect((error as LinearError).raw).toBe(reason);
    expect(fake.requests).toHaveLength(1);
  });
});
