import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { githubAppChecks, REQUIRED_APP_EVENTS, REQUIRED_APP_PERMISSIONS } from "../../src/cli/doctor-app.js";
import { doctor } from "../../src/cli/doctor.js";
import { startGitHubFake, type GitHubFake } from "../fakes/github/index.js";
import { testConfig } from "../helpers/config.js";
import { narrowGitHubEvent } from "../../webhooks/github-intents.js";

// GitHub hands out PKCS#1 PEM private keys ("BEGIN RSA PRIVATE KEY"); the test signs with one too.
function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}
const KEY = keyPair();

let fake: GitHubFake;
beforeEach(async () => {
  fake = await startGitHubFake();
  for (const [owner, name] of [["acme", "widgets"], ["acme", "gears"], ["globex", "api"], ["globex", "web"]] as const) {
    fake.addRepo({ owner, name, cloneUrl: `file:///nonexistent/${owner}/${name}.git` });
  }
});
afterEach(async () => {
  await fake.close();
});

function appConfig(appId: number, privateKey = KEY.privateKeyPem) {
  return testConfig({ GITHUB_APP_ID: String(appId), GITHUB_APP_PRIVATE_KEY: privateKey, GITHUB_API_URL: fake.url });
}

const lines = (checks: Array<{ ok: boolean; name: string; detail: string }>) => checks.map((c) => `${c.ok ? "ok" : "no"} ${c.name}: ${c.detail}`);

describe("doctor with a GitHub App", () => {
  it("reads the App, checks permissions and events, lists installations with their repositories, names routed repositories it cannot reach", async () => {
    const app = fake.enableApp({ slug: "acme-agents", publicKeyPem: KEY.publicKeyPem });
    const acme = fake.installApp("acme");
    const globex = fake.installApp("globex", { repos: ["api"] });

    const checks = await githubAppChecks(appConfig(app.appId), ["acme/widgets", "globex/api", "globex/web", "initech/tools"]);
    const out = lines(checks);
    expect(out[0]).toBe(`ok github app: acme-agents (acme-agents, id ${app.appId}): acts as acme-agents[bot]`);
    expect(out).toContain("ok github app permissions: Contents write, Pull requests write, Checks write, Issues write, Metadata read; Commit statuses write");
    expect(out.find((l) => l.startsWith("ok github app events:"))).toContain("pull_request_review_comment");
    expect(out).toContain(`ok github installation: acme (installation ${acme.installationId}), all repositories: acme/widgets, acme/gears`);
    expect(out).toContain(`ok github installation: globex (installation ${globex.installationId}), selected repositories: globex/api`);
    expect(out).toContain("no github app repos: routing names globex/web but globex's installation does not include it: add it under the installation's Repository access");
    expect(out).toContain("no github app repos: routing names initech/tools but the App is not installed on initech: install it at https://github.com/apps/acme-agents/installations/new");
    expect(checks.filter((c) => !c.ok)).toHaveLength(2);

    // A JWT, then one installation token per installation; none of them, nor the key, is printed.
    const text = out.join("\n");
    for (const token of fake.state.installationTokens.keys()) expect(text).not.toContain(token);
    expect(fake.state.installationTokens.size).toBe(2);
    expect(text).not.toContain(KEY.privateKeyPem.split("\n")[1]);
  });

  it("names each permission the App lacks and where to change it", async () => {
    const app = fake.enableApp({
      slug: "half-app",
      publicKeyPem: KEY.publicKeyPem,
      permissions: { contents: "read", pull_requests: "write", issues: "write", metadata: "read" },
    });
    fake.installApp("acme");
    const failed = (await githubAppChecks(appConfig(app.appId))).filter((c) => !c.ok);
    expect(failed.map((c) => c.detail)).toEqual([
      "Contents is read, needs Read and write (to clone and push the agent's branches): GitHub → Settings → Developer settings → GitHub Apps → half-app → Permissions & events → Repository permissions → Contents; each installation then accepts the change",
      "Checks is no access, needs Read and write (to publish the agent-workforce check run): GitHub → Settings → Developer settings → GitHub Apps → half-app → Permissions & events → Repository permissions → Checks; each installation then accepts the change",
    ]);
    expect(failed.every((c) => c.name === "github app permissions")).toBe(true);
  });

  it("names events the App is not subscribed to, and an installation that has not accepted new permissions", async () => {
    const app = fake.enableApp({ slug: "quiet-app", publicKeyPem: KEY.publicKeyPem, events: ["issue_comment", "pull_request"] });
    const { installationId } = fake.installApp("acme", { permissions: { contents: "write", pull_requests: "write", issues: "write", metadata: "read" } });
    const failed = lines((await githubAppChecks(appConfig(app.appId))).filter((c) => !c.ok));
    expect(failed).toEqual([
      "no github app events: not subscribed to pull_request_review, pull_request_review_comment: tick them under GitHub Apps → quiet-app → Permissions & events → Subscribe to events (reviews and comments never reach the service otherwise)",
      `no github installation: acme has not accepted Checks write: an owner of acme reviews and accepts the App's new permissions at https://github.com/organizations/acme/settings/installations/${installationId}`,
    ]);
  });

  it("an App installed nowhere says where to install it", async () => {
    const app = fake.enableApp({ slug: "lonely-app", publicKeyPem: KEY.publicKeyPem });
    const failed = lines((await githubAppChecks(appConfig(app.appId))).filter((c) => !c.ok));
    expect(failed).toEqual([
      "no github installations: the App is installed nowhere: install it on your organisation at https://github.com/apps/lonely-app/installations/new and pick the repositories",
    ]);
  });

  it("a key that is not the App's fails with what to check, and nothing after it is tried", async () => {
    const app = fake.enableApp({ slug: "acme-agents", publicKeyPem: KEY.publicKeyPem });
    fake.installApp("acme");
    const checks = await githubAppChecks(appConfig(app.appId, keyPair().privateKeyPem));
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ ok: false, name: "github app" });
    expect(checks[0]?.detail).toContain(`GET ${fake.url}/app as App ${app.appId}:`);
    expect(checks[0]?.detail).toContain(`check that GITHUB_APP_ID is the App's "App ID" and GITHUB_APP_PRIVATE_KEY(_FILE) a private key generated for that App`);
    expect(fake.state.installationTokens.size).toBe(0);
  });

  it("doctor prints the App's lines (and no token line) when the App is configured", async () => {
    const app = fake.enableApp({ slug: "acme-agents", publicKeyPem: KEY.publicKeyPem });
    fake.installApp("acme");
    const config = testConfig({ GITHUB_APP_ID: String(app.appId), GITHUB_APP_PRIVATE_KEY: KEY.privateKeyPem, GITHUB_API_URL: fake.url, DEFAULT_REPO: "acme/widgets" });
    const out: string[] = [];
    await doctor(() => config, (l) => out.push(l));
    const text = out.join("\n");
    expect(text).toMatch(/✓ github app +acme-agents \(acme-agents, id \d+\): acts as acme-agents\[bot\]/);
    expect(text).toMatch(/✓ github installation +acme \(installation \d+\), all repositories: acme\/widgets, acme\/gears/);
    expect(text).toMatch(/✓ routing +0 routes, 0 repositories, default acme\/widgets/);
    expect(text).not.toContain("github token");
    expect(text).not.toContain("github app repos");
  });
});

describe("app.yml, the App manifest in the README", () => {
  it("asks for exactly the permissions and events doctor checks, and those are the events the service acts on", () => {
    const manifest = parse(readFileSync(new URL("../../app.yml", import.meta.url), "utf8"));
    expect(manifest.default_permissions).toEqual(Object.fromEntries(REQUIRED_APP_PERMISSIONS.map((p) => [p.name, p.level])));
    expect([...manifest.default_events].sort()).toEqual([...REQUIRED_APP_EVENTS].sort());
    expect(manifest).toMatchObject({ public: false, hook_attributes: { url: expect.stringMatching(/\/webhooks\/github$/) } });
    for (const event of REQUIRED_APP_EVENTS) {
      const answer = narrowGitHubEvent(event, { action: "some-action" });
      expect(answer).toEqual({ reason: `GitHub ${event}.some-action is not acted on` });
    }
    // Each listed event is one the service handles (only its action is refused above); others are refused by name.
    expect(narrowGitHubEvent("push", {})).toEqual({ reason: 'GitHub "push" events are not acted on' });
  });
});
