import { generateKeyPairSync } from "node:crypto";
import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/rest";
import { UnrecoverableError } from "bullmq";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type GitHubAccess, tokenAccess } from "../../src/github/access.js";
import { CHECK_OUTPUT_MAX } from "../../src/github/check-runs.js";
import { createOctokit, type GitHub } from "../../src/github/octokit.js";
import { publishGate, supersedeGate } from "../../src/github/statuses.js";
import { createLogger } from "../../src/logger.js";
import { type GitHubFake, startGitHubFake } from "../fakes/github/index.js";
import { type BareRemote, createBareRemote, git } from "../helpers/git-remote.js";

// publishGate with the real Octokit against the loopback GitHub fake: a check run with an App,
// the commit status with a token.

const OWNER = "acme";
const REPO = "app";
const ref = { owner: OWNER, repo: REPO };
const logger = createLogger({ level: "silent" });

let fake: GitHubFake;
let remote: BareRemote;
let shaA: string;
let shaB: string;
let app: GitHubAccess;
let token: GitHubAccess;

/** An App's access, its Octokit acting with an installation token the fake minted for a JWT. */
async function appAccess(owner: string, permissions?: Record<string, "read" | "write">, slug = `agent-workforce-${owner}`): Promise<GitHubAccess> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const { appId } = fake.enableApp({ slug, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() });
  const { installationId } = fake.installApp(owner, { appId, ...(permissions ? { permissions } : {}) });
  const auth = new Octokit({
    baseUrl: fake.url,
    authStrategy: createAppAuth,
    auth: { appId, privateKey: privateKey.export({ type: "pkcs1", format: "pem" }).toString(), installationId },
  });
  const { token: installationToken } = (await auth.auth({ type: "installation" })) as { token: string };
  const octokit: GitHub = createOctokit({ token: installationToken, baseUrl: fake.url, logger, writeSpacingMs: 0 });
  return { kind: "app", forRepo: async () => octokit, gitToken: async () => installationToken, identity: async () => ({ login: `${slug}[bot]`, name: "x", email: "x" }) };
}

const runsOn = (sha: string) => fake.checkRuns(OWNER, REPO).filter((r) => r.head_sha === sha && r.name === "agent-workforce");
const checkWrites = () => fake.requests.filter((r) => r.path.includes("/check-runs") && r.method !== "GET").length;

beforeAll(async () => {
  fake = await startGitHubFake();
  remote = await createBareRemote({ "a.txt": "a\n" });
  fake.addRepo({ owner: OWNER, name: REPO, cloneUrl: remote.url });
  shaA = await git(remote.dir, "rev-parse", "main");
  shaB = await git(remote.dir, "commit-tree", "-p", shaA, "-m", "second", `${shaA}^{tree}`);
  app = await appAccess(OWNER);
  token = tokenAccess({ octokit: createOctokit({ token: fake.token, baseUrl: fake.url, logger, writeSpacingMs: 0 }), token: fake.token, author: { name: "x", email: "x" } });
});

afterAll(async () => {
  await fake?.close();
  await remote?.cleanup();
});

beforeEach(() => {
  fake.state.checkRuns.length = 0;
  fake.state.statuses.length = 0;
});

describe("publishGate with a GitHub App: a check run named agent-workforce", () => {
  it("in progress, updated in place, then completed as success with its summary; a retry of the result adds nothing", async () => {
    const gate = { ref, sha: shaA, title: "Agent is revising this pull request", summary: "Working.", externalId: "issue-1", detailsUrl: "https://linear.app/acme/issue/ENG-1" };
    await publishGate(app, { ...gate, state: "in_progress" });
    await publishGate(app, { ...gate, state: "in_progress", summary: "Still working." });
    expect(runsOn(shaA)).toHaveLength(1);
    expect(runsOn(shaA)[0]).toMatchObject({ status: "in_progress", conclusion: null, external_id: "issue-1", details_url: gate.detailsUrl, output: { title: gate.title, summary: "Still working." } });

    await publishGate(app, { ...gate, state: "success", title: "Agent revised; awaiting review", summary: "Ready." });
    expect(runsOn(shaA)).toHaveLength(1);
    expect(runsOn(shaA)[0]).toMatchObject({ status: "completed", conclusion: "success", output: { title: "Agent revised; awaiting review", summary: "Ready." } });
    expect(runsOn(shaA)[0]?.completed_at).toEqual(expect.any(String));

    const writes = checkWrites();
    await publishGate(app, { ...gate, state: "success", title: "Agent revised; awaiting review", summary: "Ready." });
    expect(checkWrites()).toBe(writes);
    expect(runsOn(shaA)).toHaveLength(1);
    // No commit status on the App path.
    expect(fake.state.statuses).toHaveLength(0);
  });

  it("a completed run is never reopened: a new phase on the same commit is a new run, which an error then completes as failure", async () => {
    await publishGate(app, { ref, sha: shaA, state: "success", title: "Agent finished; awaiting review", summary: "Done." });
    await publishGate(app, { ref, sha: shaA, state: "in_progress", title: "Agent is revising this pull request", summary: "Working." });
    const runs = runsOn(shaA);
    expect(runs.map((r) => [r.status, r.conclusion])).toEqual([
      ["completed", "success"],
      ["in_progress", null],
    ]);
    const completed = fake.requests.filter((r) => r.method === "PATCH" && r.path.endsWith(`/check-runs/${runs[0]?.id}`));
    expect(completed).toHaveLength(0);

    await publishGate(app, { ref, sha: shaA, state: "error", title: "Agent revision failed: the model refused", summary: "Failed." });
    expect(runsOn(shaA).map((r) => [r.status, r.conclusion])).toEqual([
      ["completed", "success"],
      ["completed", "failure"],
    ]);
    const { data } = await (await app.forRepo(ref)).rest.checks.listForRef({ owner: OWNER, repo: REPO, ref: shaA, check_name: "agent-workforce" });
    expect(data.check_runs).toHaveLength(1);
    expect(data.check_runs[0]?.output.title).toBe("Agent revision failed: the model refused");
  });

  it("failure carries the check's output as text, cut to GitHub's 65535 limit", async () => {
    const huge = `${"x".repeat(70_000)}\nFAIL at the end`;
    await publishGate(app, { ref, sha: shaA, state: "failure", title: "Agent finished; checks still fail", summary: "s".repeat(70_000), text: huge });
    const [run] = runsOn(shaA);
    const output = run?.output as { summary: string; text: string };
    expect(run).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(Buffer.byteLength(output.text)).toBeLessThanOrEqual(CHECK_OUTPUT_MAX);
    expect(Buffer.byteLength(output.summary)).toBeLessThanOrEqual(CHECK_OUTPUT_MAX);
    expect(output.text.endsWith("FAIL at the end")).toBe(true);
  });

  it("supersedeGate completes the old head's in-progress run as neutral, naming the new head", async () => {
    await publishGate(app, { ref, sha: shaA, state: "in_progress", title: "Agent is revising this pull request", summary: "Working." });
    await supersedeGate(app, { ref, sha: shaA, by: shaB });
    expect(runsOn(shaA)).toHaveLength(1);
    expect(runsOn(shaA)[0]).toMatchObject({ status: "completed", conclusion: "neutral", output: { title: `Superseded by ${shaB.slice(0, 7)}` } });
    // A completed run is left alone.
    const writes = checkWrites();
    await supersedeGate(app, { ref, sha: shaA, by: shaB });
    expect(checkWrites()).toBe(writes);
  });
});

describe("another App's agent-workforce check on the same commit", () => {
  it("is never found, updated or superseded: ours is created and updated beside it", async () => {
    const other = await appAccess(OWNER, undefined, "other-ci");
    const theirs = { ref, sha: shaA, title: "Someone else's check", summary: "Theirs." };
    await publishGate(other, { ...theirs, state: "in_progress" });
    const [their] = runsOn(shaA);
    const patchesOfTheirs = () => fake.requests.filter((r) => r.method === "PATCH" && r.path.endsWith(`/check-runs/${their?.id}`));
    expect(patchesOfTheirs()).toHaveLength(0);

    // Ours: a run of its own, updated in place, though the other App's run is the newest of the name.
    await publishGate(app, { ref, sha: shaA, state: "in_progress", title: "Agent is revising this pull request", summary: "Working." });
    await publishGate(other, { ...theirs, state: "in_progress", summary: "Theirs, later." });
    await publishGate(app, { ref, sha: shaA, state: "success", title: "Agent revised; awaiting review", summary: "Ready." });
    const ours = runsOn(shaA).filter((r) => r.id !== their?.id);
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatchObject({ status: "completed", conclusion: "success", output: { title: "Agent revised; awaiting review" } });
    expect(ours[0]).toMatchObject({ app: { slug: `agent-workforce-${OWNER}` } });

    // A retry of our result sees our completed run, not theirs in progress: nothing written.
    const writes = checkWrites();
    await publishGate(app, { ref, sha: shaA, state: "success", title: "Agent revised; awaiting review", summary: "Ready." });
    expect(checkWrites()).toBe(writes);

    // Superseding the commit leaves their in-progress run as it is.
    await supersedeGate(app, { ref, sha: shaA, by: shaB });
    expect(checkWrites()).toBe(writes);
    expect(runsOn(shaA).find((r) => r.id === their?.id)).toMatchObject({ status: "in_progress", output: { title: "Someone else's check", summary: "Theirs, later." } });
    // One PATCH of their run: their own update; ours never sent one.
    expect(patchesOfTheirs()).toHaveLength(1);
  });
});

describe("publishGate with an App that lacks the Checks permission", () => {
  it("fails for good, saying which permission to give the App", async () => {
    fake.addRepo({ owner: "other", name: REPO, cloneUrl: remote.url });
    const limited = await appAccess("other", { contents: "write", pull_requests: "write", metadata: "read" });
    const failure = publishGate(limited, { ref: { owner: "other", repo: REPO }, sha: shaA, state: "success", title: "Agent finished; awaiting review", summary: "Done." });
    await expect(failure).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(failure).rejects.toThrow(/other\/app \(403 .*"Checks: read and write" permission/);
  });
});

describe("publishGate with a token: today's commit status", () => {
  it("in progress is pending, the title is the description (≤ 140), detailsUrl the target; supersede does nothing", async () => {
    await publishGate(token, { ref, sha: shaA, state: "in_progress", title: "Agent is revising this pull request", summary: "Working.", detailsUrl: "https://linear.app/acme/issue/ENG-1" });
    await publishGate(token, { ref, sha: shaA, state: "error", title: `Agent revision failed: ${"why ".repeat(60)}`, summary: "Failed." });
    await supersedeGate(token, { ref, sha: shaA, by: shaB });
    const statuses = fake.state.statuses.filter((s) => s.context === "agent-workforce");
    expect(statuses.map((s) => s.state)).toEqual(["pending", "error"]);
    expect(statuses[0]).toMatchObject({ description: "Agent is revising this pull request", targetUrl: "https://linear.app/acme/issue/ENG-1" });
    expect(statuses[1]?.description).toHaveLength(140);
    expect(fake.state.checkRuns).toHaveLength(0);
  });
});
