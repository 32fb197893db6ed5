import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { type InstallationEvent, narrowInstallationEvent, summarizeInstallationEvent } from "../../webhooks/installation-events.js";
import { githubExample } from "../fixtures/github.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { GITHUB_SECRET } from "../helpers/config.js";
import { signGitHub } from "../helpers/sign.js";

function summarize(name: string, payload: unknown) {
  const event = narrowInstallationEvent(name, payload);
  if ("invalid" in event) throw new Error(event.invalid);
  return summarizeInstallationEvent(event as InstallationEvent);
}

describe("summarizeInstallationEvent over @octokit/webhooks-examples", () => {
  it("installation.created: the account, the installation and the repositories picked", () => {
    const p = githubExample("installation", "created");
    expect(summarize("installation", p)).toEqual({
      action: "created",
      installationId: p.installation.id,
      account: p.installation.account.login,
      accountType: p.installation.account.type,
      repositorySelection: "selected",
      repositoriesAdded: p.repositories.map((r: { full_name: string }) => r.full_name),
      repositoriesRemoved: [],
      sender: p.sender.login,
    });
    expect(summarize("installation", p).repositoriesAdded.length).toBeGreaterThan(0);
  });

  it("installation.deleted: what the App no longer reaches", () => {
    const p = githubExample("installation", "deleted");
    const s = summarize("installation", p);
    expect(s).toMatchObject({ action: "deleted", installationId: p.installation.id, repositoriesAdded: [] });
    expect(s.repositoriesRemoved).toEqual(p.repositories.map((r: { full_name: string }) => r.full_name));
  });

  it("installation.suspend (no repository list) and new_permissions_accepted", () => {
    const suspended = summarize("installation", githubExample("installation", "suspend"));
    expect(suspended).toMatchObject({ action: "suspend", repositorySelection: "all", repositoriesAdded: [], repositoriesRemoved: [] });
    expect(summarize("installation", githubExample("installation", "new_permissions_accepted")).action).toBe("new_permissions_accepted");
  });

  it("installation_repositories.added and .removed name each repository", () => {
    const added = githubExample("installation_repositories", "added");
    expect(summarize("installation_repositories", added)).toMatchObject({
      action: "added",
      installationId: added.installation.id,
      account: added.installation.account.login,
      repositoriesAdded: [added.repositories_added[0].full_name],
      repositoriesRemoved: [],
    });
    const removed = githubExample("installation_repositories", "removed");
    expect(summarize("installation_repositories", removed)).toMatchObject({
      action: "removed",
      repositoriesAdded: [],
      repositoriesRemoved: [removed.repositories_removed[0].full_name],
    });
  });

  it("an enterprise account is named by its slug; a missing account is null", () => {
    const p = githubExample("installation", "created");
    p.installation.account = { id: 1, slug: "acme-corp", name: "Acme", html_url: "https://github.com/enterprises/acme-corp" };
    expect(summarize("installation", p)).toMatchObject({ account: "acme-corp", accountType: "Enterprise" });
    p.installation.account = null;
    expect(summarize("installation", p)).toMatchObject({ account: null, accountType: null });
  });

  it("repository lists that are not lists of repositories count as empty (a signed body never makes a 500)", () => {
    const p = githubExample("installation_repositories", "added");
    p.repositories_added = "acme/widgets";
    p.repositories_removed = [null, 7, { full_name: 42 }, { full_name: "acme/gears" }];
    expect(summarize("installation_repositories", p)).toMatchObject({ repositoriesAdded: [], repositoriesRemoved: ["acme/gears"] });
  });

  it("a body without installation.id is named, not summarised", () => {
    const p = githubExample("installation", "created");
    delete p.installation.id;
    expect(narrowInstallationEvent("installation", p)).toEqual({ invalid: "GitHub installation payload: installation.id: missing" });
  });
});

describe("POST /webhooks/github with installation events", () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function start() {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: "info", destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
    t = await startTestApp({}, { logger });
    return lines;
  }

  function post(event: string, payload: unknown, delivery = randomUUID(), secret = GITHUB_SECRET) {
    const body = JSON.stringify(payload);
    return t!.app.inject({
      method: "POST",
      url: "/webhooks/github",
      payload: body,
      headers: {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": delivery,
        "x-hub-signature-256": signGitHub(secret, body),
        "user-agent": "GitHub-Hookshot/abc123",
      },
    });
  }

  async function queuedJobs(): Promise<number> {
    const { implement, feedback, lifecycle } = t!.deps.queues;
    let n = 0;
    for (const q of [implement, feedback, lifecycle]) {
      n += Object.values(await q.getJobCounts("waiting", "active", "delayed", "completed", "failed", "prioritized")).reduce((a, b) => a + b, 0);
    }
    return n;
  }

  it("each real, signed installation payload is acknowledged and logged with its delivery; nothing is queued", async () => {
    const lines = await start();
    const cases: Array<[string, string]> = [
      ["installation", "created"],
      ["installation", "deleted"],
      ["installation", "suspend"],
      ["installation_repositories", "added"],
      ["installation_repositories", "removed"],
    ];
    for (const [event, action] of cases) {
      const payload = githubExample(event, action);
      const delivery = randomUUID();
      const res = await post(event, payload, delivery);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: "acknowledged", event, action });
      const logged = lines.find((l) => l.msg === "GitHub App installation changed" && l.delivery === delivery);
      expect(logged).toMatchObject({ event, action, installationId: payload.installation.id, account: payload.installation.account.login });
    }
    const added = lines.find((l) => l.msg === "GitHub App installation changed" && l.action === "added");
    expect(added?.repositoriesAdded).toEqual([githubExample("installation_repositories", "added").repositories_added[0].full_name]);
    expect(await queuedJobs()).toBe(0);
    expect(lines.map((l) => JSON.stringify(l)).join("\n")).not.toContain(GITHUB_SECRET);
  });

  it("a wrong signature is refused before anything is logged about the installation", async () => {
    const lines = await start();
    const delivery = randomUUID();
    const res = await post("installation", githubExample("installation", "created"), delivery, "not-the-secret");
    expect(res.statusCode).toBe(401);
    // The request's own completion line is the positive signal that logging for it has happened.
    expect(lines.some((l) => l.delivery === delivery && l.msg === "request completed")).toBe(true);
    expect(lines.some((l) => l.delivery === delivery && l.msg === "GitHub App installation changed")).toBe(false);
  });

  it("a signed body without installation.id is a 400 naming the field", async () => {
    await start();
    const payload = githubExample("installation_repositories", "added");
    delete payload.installation.id;
    const res = await post("installation_repositories", payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe("GitHub installation_repositories payload: installation.id: missing");
  });
});
