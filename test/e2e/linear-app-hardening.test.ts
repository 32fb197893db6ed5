import { afterEach, describe, expect, it } from "vitest";
import { installThroughBrowser, linearAppEnv, registerApp } from "../helpers/linear-app.js";
import { LINEAR_SECRET } from "../helpers/config.js";
import { signLinear } from "../helpers/sign.js";
import { startWorld, type World } from "../helpers/world.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function appWorld(opts: { startWorkers?: boolean; env?: Record<string, string> } = {}): Promise<World> {
  world = await startWorld({ env: { ...linearAppEnv(), ...opts.env }, startWorkers: opts.startWorkers ?? false });
  registerApp(world.linear);
  return world;
}

async function install(w: World): Promise<void> {
  const res = await installThroughBrowser(w.app, w.linear);
  expect(res.status, res.body).toBe(200);
}

/** Turns the fake's workspace into another one, so a second install lands in a second organization. */
function switchWorkspace(w: World, id: string, name: string, urlKey: string): void {
  Object.assign(w.linear.store.organization as object, { id, name, urlKey });
}

async function postLinear(w: World, payload: Record<string, unknown>) {
  const body = JSON.stringify({ ...payload, webhookTimestamp: Date.now() });
  const res = await w.app.inject({ method: "POST", url: "/webhooks/linear", payload: body, headers: { "content-type": "application/json", "linear-signature": signLinear(LINEAR_SECRET, body) } });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

async function reconcile(w: World, id: string) {
  await w.deps.queues.reconcile.add("reconcile", { kind: "reconcile" }, { jobId: id });
  expect(await w.waitForJob(id, "reconcile" as never)).toBe("completed");
  return (await w.deps.queues.reconcile.getJob(id))?.returnvalue as { labelledWithoutTask: string[]; errors: string[]; stuckTasks: string[] };
}

describe("Linear OAuth app: revoked workspaces and LINEAR_ALLOWED_ORGANIZATIONS", () => {
  it("after the only workspace revokes the app, client_credentials does not bring it back; an admin's install does", async () => {
    const w = await appWorld();
    w.linear.oauth.clientCredentials = true;
    await install(w);
    const org = w.linear.store.organization;
    await w.deps.linearApp!.revoke(org.id);
    expect(await w.deps.linearApp!.installations()).toEqual([]);

    await expect(w.deps.clients!.linear().viewer).rejects.toThrow(/Fake Org revoked the app, so its client_credentials token is not used/);
    expect(await w.deps.linearApp!.installations()).toEqual([]);
    expect(w.linear.oauth.granted("client_credentials")).toBe(1);
    expect(w.logs.join("\n")).toContain("client_credentials token discarded");

    await install(w);
    expect(await w.deps.linearApp!.orgs.isRevoked(org.id)).toBe(false);
    expect((await w.deps.clients!.linear().viewer).id).toBe(w.linear.oauth.appUserId);
  });

  it("an install from a workspace not in LINEAR_ALLOWED_ORGANIZATIONS gets a page saying so and stores nothing", async () => {
    const w = await appWorld({ env: { LINEAR_ALLOWED_ORGANIZATIONS: "some-other-org, acme" } });
    const res = await installThroughBrowser(w.app, w.linear);
    expect(res.status).toBe(403);
    expect(res.body).toContain("The Linear workspace Fake Org is not allowed to install this agent-workforce deployment.");
    expect(await w.deps.linearApp!.installations()).toEqual([]);

    // Nor does client_credentials use it.
    w.linear.oauth.clientCredentials = true;
    await expect(w.deps.clients!.linear().viewer).rejects.toThrow(/is not in LINEAR_ALLOWED_ORGANIZATIONS/);
    expect(await w.deps.linearApp!.installations()).toEqual([]);

    // Allowed by URL key.
    switchWorkspace(w, w.linear.store.organization.id, "Acme", "acme");
    await install(w);
    expect((await w.deps.linearApp!.installations()).map((i) => i.organizationName)).toEqual(["Acme"]);
  });

  it("a malformed state cookie is treated as missing: the page asks to start again", async () => {
    const w = await appWorld();
    const { state } = w.deps.linearApp!.state.issue();
    const res = await w.app.inject({ method: "GET", url: `/oauth/linear/callback?code=x&state=${state}`, headers: { cookie: "awf_linear_oauth=%E0" } });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain("another browser");
    expect(res.body).toContain("Start the install again");
  });
});

describe("Linear webhooks without createdAt", () => {
  it("an OAuthApp revoked or an AppUserNotification without a valid createdAt is a 400 naming the field", async () => {
    const w = await appWorld();
    const revoked = await postLinear(w, { type: "OAuthApp", action: "revoked", organizationId: "org-1", oauthClientId: "lin_oauth_fake_client", webhookId: "wh" });
    expect(revoked).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^Linear OAuthApp payload: createdAt: /) } });
    const garbled = await postLinear(w, { type: "OAuthApp", action: "revoked", organizationId: "org-1", createdAt: "not a date" });
    expect(garbled).toMatchObject({ status: 400, body: { error: "Linear OAuthApp payload: createdAt: expected an ISO timestamp" } });
    const note = await postLinear(w, { type: "AppUserNotification", action: "issueUnassignedFromYou", notification: { id: "n-1", issueId: "i-1" } });
    expect(note).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^Linear AppUserNotification payload: createdAt: /) } });
  });
});

describe("reconciler with the app in several workspaces", () => {
  it("sweeps each installed workspace with its own token and records the workspace on the repair", async () => {
    const w = await appWorld({ startWorkers: true, env: { RECONCILE_INTERVAL_MS: "0" } });
    await install(w);
    const first = w.linear.store.organization.id;
    switchWorkspace(w, "org-second", "Second Org", "second");
    await install(w);
    expect(await w.deps.linearApp!.installations()).toHaveLength(2);

    expect(await reconcile(w, "r0")).toMatchObject({ labelledWithoutTask: [], errors: [] });
    const issue = w.newIssue();
    const report = await reconcile(w, "r1");
    expect(report).toMatchObject({ labelledWithoutTask: [issue.identifier], errors: [] });
    const [job] = await w.deps.queues.implement.getJobs(["waiting", "active", "completed", "failed", "delayed", "prioritized"]);
    // The fake serves one store to both tokens: the issue was read in both, the first reading kept.
    expect(job?.data).toMatchObject({ issueId: issue.id, organizationId: expect.stringMatching(new RegExp(`^(${first}|org-second)$`)) });
  });

  it("does not restart a lost task that records no workspace, saying why, instead of a job that fails on every retry", async () => {
    const w = await appWorld({ startWorkers: true, env: { RECONCILE_INTERVAL_MS: "0", JOB_LOCK_MS: "1000" } });
    await install(w);
    switchWorkspace(w, "org-second", "Second Org", "second");
    await install(w);
    const issue = w.newIssue({ labels: [] });
    await w.deps.tasks.ensure({ issueId: issue.id, identifier: issue.identifier, title: issue.title, issueUrl: issue.url });
    await w.deps.tasks.update(issue.id, () => ({ state: "queued" }));
    await new Promise((r) => setTimeout(r, 2_100));
    const report = await reconcile(w, "r-old");
    expect(report.stuckTasks).toEqual([]);
    expect(report.errors).toEqual([expect.stringContaining(`${issue.identifier}: not restarted: the task predates workspace tracking and the Linear app is installed in 2 workspaces`)]);
  });
});
