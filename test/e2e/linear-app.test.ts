import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createDeps, type Deps } from "../../src/deps.js";
import { createLogger } from "../../src/logger.js";
import { dueForRefresh } from "../../src/linear/oauth/app-auth.js";
import { linearAppChecks } from "../../src/linear/oauth/doctor-checks.js";
import { InstallState } from "../../src/linear/oauth/install-state.js";
import { TokenCipher } from "../../src/linear/oauth/token-cipher.js";
import { installThroughBrowser, linearAppEnv, registerApp, TEST_TOKEN_KEY } from "../helpers/linear-app.js";
import { REDIS_URL } from "../helpers/redis.js";
import { LINEAR_SECRET } from "../helpers/config.js";
import { signLinear } from "../helpers/sign.js";
import { startWorld, type World } from "../helpers/world.js";

let world: World | undefined;
const extra: Deps[] = [];
afterEach(async () => {
  for (const d of extra.splice(0)) await d.close();
  await world?.close();
  world = undefined;
});

async function appWorld(opts: { startWorkers?: boolean } = {}): Promise<World> {
  world = await startWorld({ env: linearAppEnv(), startWorkers: opts.startWorkers ?? false });
  registerApp(world.linear);
  return world;
}

async function installed(w: World) {
  const res = await installThroughBrowser(w.app, w.linear);
  expect(res.status, res.body).toBe(200);
  const org = w.linear.store.organization;
  const inst = await w.deps.linearApp!.store.get(org.id);
  return { res, org, inst: inst! };
}

const viewerIds = (w: World) => w.linear.requests.filter((r) => r.query.includes("viewer"));

describe("Linear OAuth app: install", () => {
  it("install → Linear → callback stores the workspace's tokens encrypted, and Linear calls then act as the app", async () => {
    const w = await appWorld();
    const { res, org, inst } = await installed(w);
    // The authorize URL asks for an app install with the agent scopes and a signed state.
    const q = res.authorize.searchParams;
    expect(Object.fromEntries(q)).toMatchObject({
      client_id: "lin_oauth_fake_client",
      redirect_uri: "https://agents.example.test/oauth/linear/callback",
      response_type: "code",
      scope: "read,write,app:assignable,app:mentionable",
      actor: "app",
    });
    expect(q.get("state")).toMatch(/^[\w-]+\.[\w-]+$/);
    expect(res.body).toContain(`installed in the Linear workspace ${org.name}`);
    expect(inst).toMatchObject({ organizationId: org.id, organizationName: org.name, appUserId: w.linear.oauth.appUserId, grant: "authorization_code" });
    expect(inst.refreshToken).toBeTruthy();

    // At rest: no token in any Redis value under the prefix.
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`${w.env.REDIS_PREFIX}:linear-app:*`);
      expect(keys.length).toBeGreaterThan(0);
      const raw = (await Promise.all(keys.map(async (k) => ((await redis.type(k)) === "hash" ? JSON.stringify(await redis.hgetall(k)) : "")))).join("\n");
      expect(raw).toContain(org.name);
      expect(raw).not.toContain(inst.accessToken);
      expect(raw).not.toContain(inst.refreshToken!);
    } finally {
      redis.disconnect();
    }

    // A job's client (no organization named: the only installation) and one naming it both use the org's token.
    w.linear.requests.length = 0;
    expect((await w.deps.clients!.linear().viewer).id).toBe(w.linear.oauth.appUserId);
    expect((await w.deps.clients!.linear(undefined, org.id).viewer).id).toBe(w.linear.oauth.appUserId);
    expect(w.linear.requests.map((r) => r.authorization)).toEqual([`Bearer ${inst.accessToken}`, `Bearer ${inst.accessToken}`]);
    // An unknown organization is refused clearly.
    await expect(w.deps.clients!.linear(undefined, "no-such-org").viewer).rejects.toThrow(/not installed in organization no-such-org/);
    // doctor names the mode and the workspace with its token's expiry, never the token.
    const doctorLines = (await linearAppChecks(w.deps.config)).map((c) => `${c.ok ? "ok" : "no"} ${c.name}: ${c.detail}`);
    expect(doctorLines).toEqual([
      expect.stringMatching(/^ok linear mode: OAuth app \(actor=app, client id lin_oauth_fake_client\)/),
      "ok linear install: https://agents.example.test/oauth/linear/install (redirect URI https://agents.example.test/oauth/linear/callback must be listed in the app's callback URLs)",
      "ok linear key: LINEAR_API_KEY is set but not used: the OAuth app acts in Linear",
      `ok linear workspace: ${org.name} (${org.id}): app user ${inst.appUserId}, authorization_code; token expires ${new Date(inst.expiresAt).toISOString()} (in 24 h)`,
    ]);
    expect(doctorLines.join("\n")).not.toContain(inst.accessToken);
    // No token in any log line.
    expect(w.logs.join("\n")).not.toContain(inst.accessToken);
    expect(w.logs.join("\n")).not.toContain(inst.refreshToken!);
  });

  it("refuses a forged, expired or other-browser state, a cancelled install and a refused code, naming why", async () => {
    const w = await appWorld();
    const forged = await w.app.inject({ method: "GET", url: "/oauth/linear/callback?code=x&state=abc.def" });
    expect(forged.statusCode).toBe(400);
    expect(forged.body).toContain("not signed by this service");

    const old = new InstallState(new TokenCipher(TEST_TOKEN_KEY).stateKey, () => Date.now() - 11 * 60_000).issue();
    const expired = await w.app.inject({ method: "GET", url: `/oauth/linear/callback?code=x&state=${old.state}`, headers: { cookie: `awf_linear_oauth=${old.nonce}` } });
    expect(expired.statusCode).toBe(400);
    expect(expired.body).toContain("expired");

    const fresh = w.deps.linearApp!.state.issue();
    const elsewhere = await w.app.inject({ method: "GET", url: `/oauth/linear/callback?code=x&state=${fresh.state}` });
    expect(elsewhere.statusCode).toBe(400);
    expect(elsewhere.body).toContain("another browser");

    w.linear.oauth.denyNext = true;
    const denied = await installThroughBrowser(w.app, w.linear);
    expect(denied.status).toBe(400);
    expect(denied.body).toContain("The install was cancelled in Linear");

    const refused = await installThroughBrowser(w.app, w.linear, (cb) => cb.searchParams.set("code", "code_not_issued"));
    expect(refused.status).toBe(502);
    expect(refused.body).toContain("Linear refused the authorization code: Invalid authorization code");
    expect(await w.deps.linearApp!.installations()).toEqual([]);
    expect(w.linear.oauth.tokenRequests.map((r) => [r.grant, r.status])).toEqual([["authorization_code", 400]]);
  });

  it("escapes the workspace name on the page", async () => {
    const w = await appWorld();
    (w.linear.store.organization as { name: string }).name = `<script>alert("x")</script> & Co`;
    const { res } = await installed(w);
    expect(res.body).not.toContain("<script>");
    expect(res.body).toContain("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; Co");
  });
});

describe("Linear OAuth app: tokens", () => {
  it("refreshes ahead of expiry, storing the rotated refresh token, without a 401", async () => {
    const w = await appWorld();
    w.linear.oauth.accessTokenTtlMs = 2_000;
    const { org, inst } = await installed(w);
    await w.waitFor(() => dueForRefresh(inst), "the token to come within its refresh margin");
    w.linear.requests.length = 0;
    expect((await w.deps.clients!.linear().viewer).id).toBe(w.linear.oauth.appUserId);
    expect(w.linear.oauth.granted("refresh_token")).toBe(1);
    const after = (await w.deps.linearApp!.store.get(org.id))!;
    expect(after.accessToken).not.toBe(inst.accessToken);
    expect(after.refreshToken).not.toBe(inst.refreshToken);
    // One request, with the new token: the old one was never sent to be refused.
    expect(w.linear.requests.map((r) => r.authorization)).toEqual([`Bearer ${after.accessToken}`]);
  });

  it("two processes hit a 401 at once: exactly one refresh at Linear, both retry with its token", async () => {
    const w = await appWorld();
    const { org, inst } = await installed(w);
    const other = await createDeps(loadConfig(w.env, ["server"]), { logger: createLogger({ level: "silent" }), roles: ["server"] });
    extra.push(other);
    expect(other.redis).not.toBe(w.deps.redis);
    // Linear revokes the token early; both processes find out from a 401 while the refresh is slow.
    w.linear.oauth.expire(inst.accessToken);
    w.linear.oauth.tokenDelayMs = 300;
    w.linear.requests.length = 0;
    const ids = await Promise.all([
      w.deps.clients!.linear().viewer,
      other.clients!.linear().viewer,
      other.clients!.linear(undefined, org.id).viewer,
      w.deps.clients!.linear(undefined, org.id).viewer,
    ]);
    expect(ids.map((u) => u.id)).toEqual(Array(4).fill(w.linear.oauth.appUserId));
    expect(w.linear.oauth.tokenRequests.filter((r) => r.grant === "refresh_token")).toEqual([{ grant: "refresh_token", status: 200, clientAuth: "form" }]);
    const after = (await w.deps.linearApp!.store.get(org.id))!;
    const sent = viewerIds(w).map((r) => r.authorization);
    expect(sent.filter((a) => a === `Bearer ${inst.accessToken}`)).toHaveLength(4);
    expect(sent.filter((a) => a === `Bearer ${after.accessToken}`)).toHaveLength(4);
  });

  it("a deployment nobody installed gets an app token by client_credentials when the app allows it", async () => {
    const w = await appWorld();
    await expect(w.deps.clients!.linear().viewer).rejects.toThrow(/not installed in any workspace and Linear refused client credentials \(Client does not support the client_credentials grant type\).*oauth\/linear\/install/);
    expect(w.linear.oauth.tokenRequests).toEqual([{ grant: "client_credentials", status: 400, error: "unauthorized_client", clientAuth: "form" }]);

    // Allowed, asked by a process that was not just refused (each remembers a refusal for a minute): one grant, shared.
    w.linear.oauth.clientCredentials = true;
    const other = await createDeps(loadConfig(w.env, ["server"]), { logger: createLogger({ level: "silent" }), roles: ["server"] });
    extra.push(other);
    const ids = await Promise.all([other.clients!.linear().viewer, other.clients!.linear().viewer]);
    expect(ids.map((u) => u.id)).toEqual([w.linear.oauth.appUserId, w.linear.oauth.appUserId]);
    expect(w.linear.oauth.granted("client_credentials")).toBe(1);
    const [inst] = await w.deps.linearApp!.installations();
    expect(inst).toMatchObject({ organizationId: w.linear.store.organization.id, grant: "client_credentials" });
    expect(inst!.expiresAt - inst!.obtainedAt).toBeGreaterThan(29 * 24 * 3600_000);
  });
});

describe("Linear OAuth app: revoked", () => {
  it("a signed OAuthApp revoked webhook deletes the workspace's tokens and stops its running task", async () => {
    const w = await appWorld({ startWorkers: true });
    const { org, inst } = await installed(w);
    w.linear.requests.length = 0;
    const issue = w.newIssue();
    w.anthropic.script([
      { content: [{ type: "tool_use", name: "str_replace_based_edit_tool", input: { command: "create", path: "greet.txt", file_text: "hello, world\n" } }] },
      { content: [{ type: "tool_use", name: "bash", input: { command: "sleep 20" } }] },
    ]);
    const labelled = await w.labelIssue(issue);
    await w.waitFor(async () => w.anthropic.requests.length >= 2, "the agent to start its long command");
    // The job's Linear calls (its own agent session, issue read, state move, plan) went out with the workspace's app token.
    expect(w.linear.requests.length).toBeGreaterThan(2);
    expect(new Set(w.linear.requests.map((r) => r.authorization))).toEqual(new Set([`Bearer ${inst.accessToken}`]));
    expect((await w.deps.tasks.get(issue.id))?.session).toMatchObject({ organizationId: org.id, openedBy: "label" });
    expect(w.linear.store.commentsFor(issue.id).some((c) => c.body.includes("Agent:"))).toBe(false);
    // The label webhook's workspace is the task's: a multi-workspace deployment serves it with that workspace's client.
    expect((await w.deps.tasks.get(issue.id))?.organizationId).toBe(org.id);

    const payload = { type: "OAuthApp", action: "revoked", organizationId: org.id, oauthClientId: "lin_oauth_fake_client", webhookId: "wh-1", createdAt: new Date().toISOString(), webhookTimestamp: Date.now() };
    const send = async () => {
      const body = JSON.stringify({ ...payload, webhookTimestamp: Date.now() });
      const res = await w.app.inject({ method: "POST", url: "/webhooks/linear", payload: body, headers: { "content-type": "application/json", "linear-signature": signLinear(LINEAR_SECRET, body) } });
      return { status: res.statusCode, body: res.json() as Record<string, unknown> };
    };
    const started = Date.now();
    const first = await send();
    expect(first).toMatchObject({ status: 200, body: { status: "accepted", intent: "app-revoked" } });
    // Linear's retry of the same revocation is one job.
    expect((await send()).body).toMatchObject({ status: "duplicate", jobId: first.body.jobId });
    expect(await w.waitForJob(first.body.jobId as string, "lifecycle")).toBe("completed");
    expect(await w.waitForJob(labelled.body.jobId as string)).toBe("failed");
    expect(Date.now() - started).toBeLessThan(5_000);

    expect(await w.deps.linearApp!.store.get(org.id)).toBeNull();
    expect(await w.deps.linearApp!.installations()).toEqual([]);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "stopped" });
    expect(await w.remote.branches()).toEqual(["main"]);
    const job = await w.deps.queues.lifecycle.getJob(first.body.jobId as string);
    expect(job?.returnvalue).toMatchObject({ outcome: expect.stringContaining("tokens deleted; stopped ENG-1") });
    // No token in job data or logs.
    const implement = await w.deps.queues.implement.getJob(labelled.body.jobId as string);
    for (const text of [JSON.stringify(job?.data), JSON.stringify(implement?.data), w.logs.join("\n")]) {
      expect(text).not.toContain(inst.accessToken);
      expect(text).not.toContain(inst.refreshToken!);
    }
  });

  it("ignores a revocation of another OAuth client", async () => {
    const w = await appWorld();
    const { org } = await installed(w);
    const body = JSON.stringify({ type: "OAuthApp", action: "revoked", organizationId: org.id, oauthClientId: "someone-else", webhookId: "wh", createdAt: new Date().toISOString(), webhookTimestamp: Date.now() });
    const res = await w.app.inject({ method: "POST", url: "/webhooks/linear", payload: body, headers: { "content-type": "application/json", "linear-signature": signLinear(LINEAR_SECRET, body) } });
    expect(res.json()).toMatchObject({ status: "ignored", reason: "OAuthApp revoked for another OAuth client" });
    expect(await w.deps.linearApp!.store.get(org.id)).not.toBeNull();
  });
});
