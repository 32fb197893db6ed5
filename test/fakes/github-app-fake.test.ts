import { execFile } from "node:child_process";
import { createSign, generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EnabledApp, type GitHubFake, startGitHubFake } from "./github/index.js";

const run = promisify(execFile);
const GIT_ID = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"];
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const OWNER = "acme";

/** git with no prompt (a 401 fails at once) and, when given, the token as GitHub's Basic credential. */
async function git(cwd: string, args: string[], token?: string): Promise<string> {
  const auth = token
    ? ["-c", `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`]
    : [];
  const env = { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "/bin/true", GIT_CONFIG_NOSYSTEM: "1" };
  const { stdout } = await run("git", [...GIT_ID, ...auth, ...args], { cwd, env });
  return stdout.trim();
}

function signJwt(privateKey: string, claims: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const unsigned = `${enc({ alg: "RS256", typ: "JWT" })}.${enc(claims)}`;
  return `${unsigned}.${createSign("RSA-SHA256").update(unsigned).sign(privateKey).toString("base64url")}`;
}

async function failure(p: Promise<unknown>): Promise<{ status: number; message: string; headers: Record<string, string> }> {
  try {
    await p;
  } catch (err) {
    const e = err as { status: number; message: string; response?: { headers: Record<string, string> } };
    return { status: e.status, message: e.message, headers: e.response?.headers ?? {} };
  }
  throw new Error("expected the request to fail");
}

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKey: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

describe("GitHub fake as a GitHub App, with @octokit/auth-app", () => {
  let dir: string;
  let bare: string;
  let mainSha: string;
  let fake: GitHubFake;
  let app: EnabledApp;
  let installationId: number;
  const keys = keyPair();

  const appOctokit = () =>
    new Octokit({ authStrategy: createAppAuth, auth: { appId: app.appId, privateKey: keys.privateKey }, baseUrl: fake.url, log: quiet });
  const installationOctokit = () =>
    new Octokit({
      authStrategy: createAppAuth,
      auth: { appId: app.appId, privateKey: keys.privateKey, installationId },
      baseUrl: fake.url,
      log: quiet,
    });
  /** An unauthenticated request function for createAppAuth, which adds its own credentials. */
  const bareRequest = () => new Octokit({ baseUrl: fake.url, log: quiet }).request;
  const installationToken = async () => {
    const auth = createAppAuth({ appId: app.appId, privateKey: keys.privateKey, request: bareRequest() });
    return (await auth({ type: "installation", installationId, refresh: true })).token;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gh-app-fake-"));
    bare = join(dir, "origin.git");
    const work = join(dir, "work");
    await git(dir, ["init", "--bare", "--initial-branch=main", bare]);
    await git(dir, ["clone", bare, work]);
    await git(work, ["checkout", "-b", "main"]);
    await writeFile(join(work, "README.md"), "hello\n");
    await git(work, ["add", "."]);
    await git(work, ["commit", "-m", "initial"]);
    await git(work, ["push", "origin", "main"]);
    mainSha = await git(work, ["rev-parse", "HEAD"]);
    await git(work, ["checkout", "-b", "feature"]);
    await writeFile(join(work, "f.txt"), "f\n");
    await git(work, ["add", "."]);
    await git(work, ["commit", "-m", "feature"]);
    await git(work, ["push", "origin", "feature"]);

    fake = await startGitHubFake();
    fake.addRepo({ owner: OWNER, name: "widgets", cloneUrl: pathToFileURL(bare).href, http: true });
    fake.addRepo({ owner: OWNER, name: "secret", cloneUrl: pathToFileURL(bare).href, http: true });
    fake.addRepo({ owner: "other", name: "tools", cloneUrl: pathToFileURL(bare).href, http: true });
    app = fake.enableApp({ appId: 4242, slug: "agent-workforce", publicKeyPem: keys.publicKeyPem });
    ({ installationId } = fake.installApp(OWNER, { repos: ["widgets"] }));
  });

  afterAll(async () => {
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves the App, its installations and the installation of a repository to a JWT", async () => {
    expect(app).toEqual({
      appId: 4242,
      slug: "agent-workforce",
      botLogin: "agent-workforce[bot]",
      botUserId: expect.any(Number),
      clientId: expect.stringMatching(/^Iv23/),
    });
    const octokit = appOctokit();
    const { data: me } = await octokit.rest.apps.getAuthenticated();
    expect(me).toMatchObject({ id: 4242, slug: "agent-workforce", permissions: { checks: "write", contents: "write" } });
    const { data: installations } = await octokit.rest.apps.listInstallations();
    expect(installations.map((i) => [i.id, i.account?.login, i.repository_selection])).toEqual([[installationId, OWNER, "selected"]]);
    const { data: inst } = await octokit.rest.apps.getRepoInstallation({ owner: OWNER, repo: "widgets" });
    expect(inst.id).toBe(installationId);
    expect((await failure(octokit.rest.apps.getRepoInstallation({ owner: OWNER, repo: "secret" }))).status).toBe(404);
    expect((await failure(octokit.rest.apps.getRepoInstallation({ owner: "other", repo: "tools" }))).status).toBe(404);
    // A user token is no JWT.
    const user = new Octokit({ auth: fake.token, baseUrl: fake.url, log: quiet });
    expect(await failure(user.rest.apps.getAuthenticated())).toMatchObject({ status: 401, message: expect.stringContaining("JSON web token") });
  });

  it("mints installation tokens that act as <slug>[bot] on the installation's repositories only", async () => {
    const octokit = installationOctokit();
    const { data: repos } = await octokit.rest.apps.listReposAccessibleToInstallation();
    expect(repos.repositories.map((r) => r.full_name)).toEqual(["acme/widgets"]);
    const { data: pr } = await octokit.rest.pulls.create({ owner: OWNER, repo: "widgets", title: "F", head: "feature", base: "main" });
    expect(pr.user).toMatchObject({ login: "agent-workforce[bot]", type: "Bot", id: app.botUserId });
    const { data: comment } = await octokit.rest.issues.createComment({ owner: OWNER, repo: "widgets", issue_number: pr.number, body: "hi" });
    expect(comment.user).toMatchObject({ login: "agent-workforce[bot]", type: "Bot" });
    expect(comment.author_association).toBe("NONE");
    const { data: bot } = await octokit.rest.users.getByUsername({ username: "agent-workforce[bot]" });
    expect(bot).toMatchObject({ id: app.botUserId, type: "Bot" });
    expect(await failure(octokit.rest.users.getAuthenticated())).toMatchObject({ status: 403, message: expect.stringContaining("Resource not accessible by integration") });
    expect((await failure(octokit.rest.repos.get({ owner: OWNER, repo: "secret" }))).status).toBe(404);
    const token = await installationToken();
    expect(token).toMatch(/^ghs_[A-Za-z0-9]{36}$/);
  });

  it("creates, updates and lists check runs for an App only", async () => {
    const octokit = installationOctokit();
    const created = await octokit.rest.checks.create({
      owner: OWNER,
      repo: "widgets",
      name: "agent-workforce",
      head_sha: mainSha,
      status: "in_progress",
      output: { title: "Working", summary: "An agent is revising" },
    });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ status: "in_progress", conclusion: null, head_sha: mainSha, app: { id: 4242 } });
    const updated = await octokit.rest.checks.update({
      owner: OWNER,
      repo: "widgets",
      check_run_id: created.data.id,
      conclusion: "failure",
      output: { title: "Tests failed", summary: "1 failing", text: "expected 1 to be 2" },
    });
    expect(updated.data).toMatchObject({ status: "completed", conclusion: "failure", output: { text: "expected 1 to be 2" } });
    const listed = await octokit.rest.checks.listForRef({ owner: OWNER, repo: "widgets", ref: mainSha, check_name: "agent-workforce" });
    expect(listed.data.total_count).toBe(1);
    expect(listed.data.check_runs[0]?.id).toBe(created.data.id);
    expect(fake.checkRuns(OWNER, "widgets")).toEqual([
      expect.objectContaining({ name: "agent-workforce", head_sha: mainSha, status: "completed", conclusion: "failure" }),
    ]);
    const user = new Octokit({ auth: fake.token, baseUrl: fake.url, log: quiet });
    expect(await failure(user.rest.checks.create({ owner: OWNER, repo: "widgets", name: "x", head_sha: mainSha }))).toMatchObject({
      status: 403,
      message: expect.stringContaining("You must authenticate via a GitHub App."),
    });
    expect((await failure(octokit.rest.checks.create({ owner: OWNER, repo: "widgets", name: "x", head_sha: "0".repeat(40) }))).status).toBe(422);
  });

  it("refuses expired, too long and foreign JWTs with GitHub's messages", async () => {
    const now = Math.floor(Date.now() / 1000);
    const ask = (jwt: string) => new Octokit({ auth: jwt, baseUrl: fake.url, log: quiet }).rest.apps.getAuthenticated();
    expect(await failure(ask(signJwt(keys.privateKey, { iss: 4242, iat: now - 700, exp: now - 60 })))).toMatchObject({
      status: 401,
      message: expect.stringContaining("'Expiration time' claim ('exp') must be a numeric value representing the future time"),
    });
    expect(await failure(ask(signJwt(keys.privateKey, { iss: 4242, iat: now, exp: now + 3600 })))).toMatchObject({
      status: 401,
      message: expect.stringContaining("'Expiration time' claim ('exp') is too far in the future"),
    });
    const stranger = keyPair();
    expect(await failure(ask(signJwt(stranger.privateKey, { iss: 4242, iat: now, exp: now + 60 })))).toMatchObject({
      status: 401,
      message: expect.stringContaining("A JSON web token could not be decoded"),
    });
    const { data } = await ask(signJwt(keys.privateKey, { iss: "4242", iat: now - 30, exp: now + 540 }));
    expect(data?.slug).toBe("agent-workforce");
  });

  it("takes a JWT only as Bearer, as GitHub does: `token <JWT>` is 401 Bad credentials", async () => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = signJwt(keys.privateKey, { iss: 4242, iat: now - 30, exp: now + 540 });
    const bare = new Octokit({ baseUrl: fake.url, log: quiet });
    const { data } = await bare.request("GET /app", { headers: { authorization: `Bearer ${jwt}` } });
    expect(data?.slug).toBe("agent-workforce");
    expect(await failure(bare.request("GET /app", { headers: { authorization: `token ${jwt}` } }))).toMatchObject({
      status: 401,
      message: expect.stringContaining("Bad credentials"),
    });
  });

  it("accepts the App's client id as the JWT's iss, with auth-app given the client id as appId", async () => {
    const now = Math.floor(Date.now() / 1000);
    const ask = (jwt: string) => new Octokit({ auth: jwt, baseUrl: fake.url, log: quiet }).rest.apps.getAuthenticated();
    expect((await ask(signJwt(keys.privateKey, { iss: app.clientId, iat: now - 30, exp: now + 540 }))).data?.id).toBe(4242);
    expect((await failure(ask(signJwt(keys.privateKey, { iss: "Iv23unknown", iat: now - 30, exp: now + 540 })))).status).toBe(401);
    const byClientId = new Octokit({
      authStrategy: createAppAuth,
      auth: { appId: app.clientId, privateKey: keys.privateKey, installationId },
      baseUrl: fake.url,
      log: quiet,
    });
    expect((await byClientId.rest.repos.get({ owner: OWNER, repo: "widgets" })).status).toBe(200);
  });

  it("refuses installation tokens once they have expired", async () => {
    const token = await installationToken();
    const octokit = new Octokit({ auth: token, baseUrl: fake.url, log: quiet });
    await octokit.rest.repos.get({ owner: OWNER, repo: "widgets" });
    fake.expireInstallationTokens();
    expect(await failure(octokit.rest.repos.get({ owner: OWNER, repo: "widgets" }))).toMatchObject({ status: 401, message: expect.stringContaining("Bad credentials") });
    const fresh = new Octokit({ auth: await installationToken(), baseUrl: fake.url, log: quiet });
    expect((await fresh.rest.repos.get({ owner: OWNER, repo: "widgets" })).status).toBe(200);
  });

  it("gives a token expires_at one tokenTtlMs ahead", async () => {
    const short = keyPair();
    const shortApp = fake.enableApp({ slug: "short-lived", publicKeyPem: short.publicKeyPem, tokenTtlMs: 2000 });
    const { installationId: id } = fake.installApp("other", { appId: shortApp.appId });
    const auth = createAppAuth({ appId: shortApp.appId, privateKey: short.privateKey, request: bareRequest() });
    const before = Date.now();
    const got = await auth({ type: "installation", installationId: id });
    expect(Date.parse(got.expiresAt)).toBeGreaterThan(before - 1000);
    expect(Date.parse(got.expiresAt)).toBeLessThanOrEqual(before + 3000);
    const octokit = new Octokit({ auth: got.token, baseUrl: fake.url, log: quiet });
    expect((await octokit.rest.repos.get({ owner: "other", repo: "tools" })).status).toBe(200);
    expect((await failure(octokit.rest.repos.get({ owner: OWNER, repo: "widgets" }))).status).toBe(404);
  });

  it("narrows an installation's repositories, and uninstalls it: its tokens 401, minting and lookups 404", async () => {
    const own = keyPair();
    const movable = fake.enableApp({ slug: "movable", publicKeyPem: own.publicKeyPem });
    fake.addRepo({ owner: "other", name: "extra", cloneUrl: pathToFileURL(bare).href, http: true });
    const { installationId: id } = fake.installApp("other", { appId: movable.appId });
    const jwtOctokit = new Octokit({ authStrategy: createAppAuth, auth: { appId: movable.appId, privateKey: own.privateKey }, baseUrl: fake.url, log: quiet });
    const auth = createAppAuth({ appId: movable.appId, privateKey: own.privateKey, request: bareRequest() });
    const token = (await auth({ type: "installation", installationId: id, refresh: true })).token;
    const octokit = new Octokit({ auth: token, baseUrl: fake.url, log: quiet });
    expect((await octokit.rest.repos.get({ owner: "other", repo: "extra" })).status).toBe(200);

    fake.setInstallationRepos(id, ["tools"]);
    expect((await failure(octokit.rest.repos.get({ owner: "other", repo: "extra" }))).status).toBe(404);
    expect((await failure(jwtOctokit.rest.apps.getRepoInstallation({ owner: "other", repo: "extra" }))).status).toBe(404);
    expect((await octokit.rest.repos.get({ owner: "other", repo: "tools" })).status).toBe(200);
    fake.setInstallationRepos(id, "all");
    expect((await octokit.rest.repos.get({ owner: "other", repo: "extra" })).status).toBe(200);

    fake.uninstallApp(id);
    expect(await failure(octokit.rest.repos.get({ owner: "other", repo: "tools" }))).toMatchObject({ status: 401, message: expect.stringContaining("Bad credentials") });
    expect((await failure(auth({ type: "installation", installationId: id, refresh: true }))).status).toBe(404);
    expect((await failure(jwtOctokit.rest.apps.getRepoInstallation({ owner: "other", repo: "tools" }))).status).toBe(404);
    expect(() => fake.uninstallApp(id)).toThrow(/no installation/);
  });

  it("enforces a token's permissions per resource with GitHub's 403 \"Resource not accessible by integration\"", async () => {
    const auth = createAppAuth({ appId: app.appId, privateKey: keys.privateKey, request: bareRequest() });
    const narrowed = async (permissions: Record<string, "read" | "write">) =>
      (await auth({ type: "installation", installationId, permissions, refresh: true })).token;
    const readOnly = await narrowed({ metadata: "read", contents: "read" });
    const octokit = new Octokit({ auth: readOnly, baseUrl: fake.url, log: quiet });
    expect((await octokit.rest.repos.get({ owner: OWNER, repo: "widgets" })).status).toBe(200);
    const refused = await failure(octokit.rest.pulls.create({ owner: OWNER, repo: "widgets", title: "F", head: "feature", base: "main" }));
    expect(refused).toMatchObject({ status: 403, message: expect.stringContaining("Resource not accessible by integration") });
    expect(refused.headers["x-accepted-github-permissions"]).toBe("pull_requests=write");
    expect((await failure(octokit.rest.pulls.list({ owner: OWNER, repo: "widgets" }))).status).toBe(403);
    expect((await failure(octokit.rest.issues.createComment({ owner: OWNER, repo: "widgets", issue_number: 1, body: "x" }))).status).toBe(403);
    expect((await failure(octokit.rest.checks.create({ owner: OWNER, repo: "widgets", name: "x", head_sha: mainSha }))).status).toBe(403);
    expect((await failure(octokit.rest.checks.listForRef({ owner: OWNER, repo: "widgets", ref: mainSha }))).status).toBe(403);
    expect((await failure(octokit.rest.repos.createCommitStatus({ owner: OWNER, repo: "widgets", sha: mainSha, state: "success" }))).status).toBe(403);

    // Issues alone may comment on a pull request's conversation, as on GitHub; reviews need Pull requests.
    const full = installationOctokit();
    const pr =
      (await full.rest.pulls.list({ owner: OWNER, repo: "widgets", head: `${OWNER}:feature` })).data[0] ??
      (await full.rest.pulls.create({ owner: OWNER, repo: "widgets", title: "P", head: "feature", base: "main" })).data;
    const issuesOnly = new Octokit({ auth: await narrowed({ metadata: "read", issues: "write" }), baseUrl: fake.url, log: quiet });
    expect((await issuesOnly.rest.issues.createComment({ owner: OWNER, repo: "widgets", issue_number: pr.number, body: "hi" })).status).toBe(201);
    expect((await failure(issuesOnly.rest.pulls.listReviews({ owner: OWNER, repo: "widgets", pull_number: pr.number }))).status).toBe(403);

    // Git: Contents read fetches, a push needs Contents write.
    const clone = join(dir, "perm-clone");
    const url = `${fake.url}/${OWNER}/widgets.git`;
    await git(dir, ["clone", url, clone], readOnly);
    await git(clone, ["checkout", "-b", "perm-check"]);
    await writeFile(join(clone, "p.txt"), "p\n");
    await git(clone, ["add", "."]);
    await git(clone, ["commit", "-m", "p"]);
    await expect(git(clone, ["push", "origin", "perm-check"], readOnly)).rejects.toThrow(/403|not granted/);
    const noContents = await narrowed({ metadata: "read", issues: "write" });
    await expect(git(dir, ["ls-remote", url], noContents)).rejects.toThrow(/403|not granted/);
    await git(clone, ["push", "origin", "perm-check"], await installationToken());
  });
});
