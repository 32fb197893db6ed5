import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitHubFake, startGitHubFake } from "./github/index.js";

const run = promisify(execFile);
const GIT_ID = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"];
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const OWNER = "acme";

/** git with no prompt (a 401 fails at once) and, when given, the token as GitHub's Basic credential. */
async function git(cwd: string, args: string[], token?: string, user = "x-access-token"): Promise<string> {
  const auth = token
    ? ["-c", `http.extraHeader=Authorization: Basic ${Buffer.from(`${user}:${token}`).toString("base64")}`]
    : [];
  const env = { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "/bin/true", GIT_CONFIG_NOSYSTEM: "1" };
  const { stdout } = await run("git", [...GIT_ID, ...auth, ...args], { cwd, env });
  return stdout.trim();
}

async function gitFails(cwd: string, args: string[], token?: string, user?: string): Promise<string> {
  try {
    await git(cwd, args, token, user);
  } catch (err) {
    return (err as { stderr: string }).stderr;
  }
  throw new Error(`expected git ${args.join(" ")} to fail`);
}

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKey: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

describe("GitHub fake: git over smart HTTP and the primary rate limit", () => {
  let dir: string;
  let bare: string;
  let fake: GitHubFake;
  let appId: number;
  let installationId: number;
  let otherInstallationId: number;
  const keys = keyPair();

  const installationToken = async (id = installationId) => {
    const auth = createAppAuth({ appId, privateKey: keys.privateKey, request: new Octokit({ baseUrl: fake.url }).request });
    return (await auth({ type: "installation", installationId: id, refresh: true })).token;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gh-git-http-"));
    bare = join(dir, "origin.git");
    const seed = join(dir, "seed");
    await git(dir, ["init", "--bare", "--initial-branch=main", bare]);
    await git(dir, ["init", "--initial-branch=main", seed]);
    await writeFile(join(seed, "README.md"), "hello\n");
    await git(seed, ["add", "."]);
    await git(seed, ["commit", "-m", "initial"]);
    await git(seed, ["push", bare, "main"]);

    fake = await startGitHubFake();
    fake.addRepo({ owner: OWNER, name: "widgets", cloneUrl: pathToFileURL(bare).href, http: true });
    fake.addRepo({ owner: "other", name: "tools", cloneUrl: bare, http: true });
    ({ appId } = fake.enableApp({ slug: "agent-workforce", publicKeyPem: keys.publicKeyPem }));
    ({ installationId } = fake.installApp(OWNER));
    otherInstallationId = fake.installApp("other").installationId;
  });

  afterAll(async () => {
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("clones and pushes with a user token or the owner's installation token, and answers 401 otherwise", async () => {
    const { data: repo } = await new Octokit({ auth: fake.token, baseUrl: fake.url, log: quiet }).rest.repos.get({
      owner: OWNER,
      repo: "widgets",
    });
    expect(repo.clone_url).toBe(`${fake.url}/acme/widgets.git`);

    const stderr = await gitFails(dir, ["clone", repo.clone_url, join(dir, "anon")]);
    expect(stderr).toMatch(/terminal prompts disabled|Authentication failed|could not read Username/);
    expect(fake.gitRequests.at(-1)).toMatchObject({ owner: OWNER, repo: "widgets", service: "git-upload-pack", token: null, status: 401 });

    await git(dir, ["clone", repo.clone_url, join(dir, "as-user")], fake.token);
    expect(await readFile(join(dir, "as-user", "README.md"), "utf8")).toBe("hello\n");

    const token = await installationToken();
    const work = join(dir, "as-app");
    await git(dir, ["clone", repo.clone_url, work], token);
    await writeFile(join(work, "app.txt"), "by the app\n");
    await git(work, ["add", "."]);
    await git(work, ["commit", "-m", "app commit"]);
    await git(work, ["push", "origin", "HEAD:refs/heads/agent/1"], token);
    const pushed = await git(dir, ["--git-dir", bare, "rev-parse", "refs/heads/agent/1"]);
    expect(pushed).toBe(await git(work, ["rev-parse", "HEAD"]));
    expect(fake.gitRequests.filter((r) => r.service === "git-receive-pack" && r.status === 200)).toEqual([
      expect.objectContaining({ phase: "advertise", token, login: "agent-workforce[bot]" }),
      expect.objectContaining({ phase: "rpc", token, login: "agent-workforce[bot]" }),
    ]);

    // The token of the other owner's installation does not open acme's repository, nor does a wrong user name.
    const otherToken = await installationToken(otherInstallationId);
    await gitFails(dir, ["ls-remote", repo.clone_url], otherToken);
    await gitFails(dir, ["ls-remote", repo.clone_url], token, "someone");
    expect(await git(dir, ["ls-remote", `${fake.url}/other/tools.git`], otherToken)).toContain("refs/heads/main");

    fake.expireInstallationTokens();
    const refused = await gitFails(work, ["push", "origin", "HEAD:refs/heads/agent/2"], token);
    expect(refused).toMatch(/terminal prompts disabled|Authentication failed|could not read Username/);
    expect(fake.gitRequests.at(-1)).toMatchObject({ token, login: null, status: 401 });
  });

  it("refuses a push to a reader", async () => {
    fake.addToken("ghp_reader", "reader");
    fake.setPermission(OWNER, "widgets", "reader", "read");
    const work = join(dir, "as-reader");
    await git(dir, ["clone", `${fake.url}/acme/widgets.git`, work], "ghp_reader");
    await writeFile(join(work, "r.txt"), "r\n");
    await git(work, ["add", "."]);
    await git(work, ["commit", "-m", "reader"]);
    expect(await gitFails(work, ["push", "origin", "HEAD:refs/heads/reader"], "ghp_reader")).toMatch(/403|denied|not granted/i);
  });

  it("enforces the primary rate limit per installation across callers, as GitHub answers it", async () => {
    fake.setRateLimit({ limit: 3, windowMs: 60_000 });
    const one = new Octokit({ auth: await installationToken(), baseUrl: fake.url, log: quiet });
    const two = new Octokit({ auth: await installationToken(), baseUrl: fake.url, log: quiet });
    const user = new Octokit({ auth: fake.token, baseUrl: fake.url, log: quiet });
    const get = (o: Octokit) => o.rest.repos.get({ owner: OWNER, repo: "widgets" });
    const first = await get(one);
    expect(first.headers["x-ratelimit-limit"]).toBe("3");
    expect(first.headers["x-ratelimit-remaining"]).toBe("2");
    await get(two);
    await get(one);
    const refused = await get(two).then(
      () => null,
      (err: { status: number; message: string; response: { headers: Record<string, string> } }) => err,
    );
    expect(refused?.status).toBe(403);
    expect(refused?.message).toContain(`API rate limit exceeded for installation ID ${installationId}.`);
    expect(refused?.response.headers["x-ratelimit-remaining"]).toBe("0");
    const reset = Number(refused?.response.headers["x-ratelimit-reset"]);
    expect(reset).toBeGreaterThan(Date.now() / 1000);
    expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 60);
    expect(fake.rateLimitExceeded).toBe(1);
    // Another identity has its own budget.
    expect((await get(user)).headers["x-ratelimit-remaining"]).toBe("2");
  });
});
