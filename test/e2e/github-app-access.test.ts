import { generateKeyPairSync } from "node:crypto";
import { RequestError } from "@octokit/request-error";
import { afterEach, describe, expect, it } from "vitest";
import { classifyFailure } from "../../jobs/failures.js";
import { AppNotInstalledError } from "../../src/github/access.js";
import { appAccess } from "../../src/github/app-access.js";
import { createOctokit } from "../../src/github/octokit.js";
import { createLogger } from "../../src/logger.js";
import { type GitHubFake, startGitHubFake } from "../fakes/github/index.js";

const keys = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs1", format: "pem" },
});
const logger = createLogger({ level: "silent" });

let github: GitHubFake | undefined;
afterEach(async () => {
  await github?.close();
  github = undefined;
});

async function setUp(o: { tokenTtlMs?: number; now?: () => number } = {}) {
  github = await startGitHubFake();
  const gh = github;
  const app = gh.enableApp({ slug: "helper", publicKeyPem: keys.publicKey, ...(o.tokenTtlMs ? { tokenTtlMs: o.tokenTtlMs } : {}) });
  for (const [owner, name] of [["acme", "one"], ["acme", "two"], ["globex", "three"]] as const) {
    gh.addRepo({ owner, name, cloneUrl: `https://github.com/${owner}/${name}.git`, defaultBranch: "main" });
  }
  const acme = gh.installApp("acme", { repos: ["one"] });
  const identities: string[] = [];
  const access = appAccess({
    app: { appId: String(app.appId), privateKey: keys.privateKey },
    logger,
    octokit: (identity) => {
      identities.push(identity);
      return createOctokit({ token: "", baseUrl: gh.url, logger, writeSpacingMs: 0, maxRetries: 0 });
    },
    ...(o.now ? { now: o.now } : {}),
  });
  const lookups = () => gh.requests.filter((r) => r.method === "GET" && r.path.endsWith("/installation")).length;
  const mints = () => gh.requests.filter((r) => r.path.endsWith("/access_tokens")).length;
  return { gh, app, acme, access, identities, lookups, mints };
}

describe("appAccess against the GitHub fake", () => {
  it("finds a repository's installation once and remembers it; a webhook's installation id needs no look-up", async () => {
    let now = Date.now();
    const { gh, acme, access, identities, lookups } = await setUp({ now: () => now });
    const one = await access.forRepo({ owner: "acme", repo: "one" });
    expect((await one.rest.repos.get({ owner: "acme", repo: "one" })).data.full_name).toBe("acme/one");
    expect(await access.forRepo({ owner: "ACME", repo: "One" })).toBe(one);
    expect(lookups()).toBe(1);
    // Ten minutes on, the App may have been moved: it is asked again.
    now += 10 * 60_000 + 1;
    await access.forRepo({ owner: "acme", repo: "one" });
    expect(lookups()).toBe(2);

    const globex = gh.installApp("globex");
    const three = await access.forRepo({ owner: "globex", repo: "three" }, { installationId: globex.installationId });
    expect(lookups()).toBe(2);
    expect(three).not.toBe(one);
    expect((await three.rest.repos.get({ owner: "globex", repo: "three" })).data.full_name).toBe("globex/three");
    // Each installation's requests spend its own limits.
    expect(identities).toEqual(expect.arrayContaining([`installation:${acme.installationId}`, `installation:${globex.installationId}`]));
    const token = await access.gitToken({ owner: "globex", repo: "three" });
    expect(token).toMatch(/^ghs_/);
    expect(gh.requests.filter((r) => r.path === "/repos/globex/three").map((r) => r.identity)).toEqual([`installation:${globex.installationId}`]);
  });

  it("a repository outside the installation is an AppNotInstalledError (unrecoverable) naming the App and the fix", async () => {
    const { access } = await setUp();
    const err = await access.forRepo({ owner: "acme", repo: "two" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppNotInstalledError);
    expect((err as Error).name).toBe("AppNotInstalledError");
    expect((err as Error).message).toBe(
      "the GitHub App helper is not installed on acme/two: install it there (GitHub → Settings → Applications → helper → Configure → Repository access) and add the label again",
    );
    await expect(access.gitToken({ owner: "globex", repo: "three" })).rejects.toBeInstanceOf(AppNotInstalledError);
  });

  it("names the bot: <slug>[bot], the noreply address of its user id; asked once", async () => {
    const { app, access, gh } = await setUp();
    expect(await access.identity()).toEqual({ login: "helper[bot]", name: "helper[bot]", email: `${app.botUserId}+helper[bot]@users.noreply.github.com` });
    const before = gh.requests.length;
    await access.identity();
    expect(gh.requests.length).toBe(before);
  });

  it("keeps a token until shortly before it expires, then asks for a new one", async () => {
    const { access, mints } = await setUp({ tokenTtlMs: 1_200 });
    const ref = { owner: "acme", repo: "one" };
    const first = await access.gitToken(ref);
    expect(await access.gitToken(ref)).toBe(first);
    expect(mints()).toBe(1);
    // The last quarter of its 1.2 s life: renewed.
    await new Promise((r) => setTimeout(r, 1_000));
    const second = await access.gitToken(ref);
    expect(second).not.toBe(first);
    expect(mints()).toBe(2);
    expect(await access.gitToken(ref, { renew: true })).not.toBe(second);
  });

  it("renews once a token GitHub stopped taking before its time; auth-app's own hook sends it", async () => {
    const { gh, access, mints } = await setUp();
    const one = await access.forRepo({ owner: "acme", repo: "one" });
    await one.rest.repos.get({ owner: "acme", repo: "one" });
    expect(mints()).toBe(1);
    gh.expireInstallationTokens();
    expect((await one.rest.repos.get({ owner: "acme", repo: "one" })).data.full_name).toBe("acme/one");
    expect(mints()).toBe(2);
    // Refused requests carry no identity (the fake answered 401). The token was seconds old, so
    // auth-app sent it again a few times (GitHub may not know a new token yet) before it was renewed.
    const sent = gh.requests.filter((r) => r.path === "/repos/acme/one");
    expect(sent.filter((r) => r.identity === undefined).length).toBeGreaterThan(1);
    expect(sent.at(-1)?.identity).toMatch(/^installation:/);
  }, 20_000);

  it("after an uninstall, a request or a git token is AppNotInstalledError: the installation is looked up again, not remembered", async () => {
    const { gh, acme, access, lookups } = await setUp();
    const ref = { owner: "acme", repo: "one" };
    const one = await access.forRepo(ref);
    await one.rest.repos.get(ref);
    expect(lookups()).toBe(1);
    gh.uninstallApp(acme.installationId);
    // The token answers 401, renewing it 404: the repository's installation is asked again, and there is none.
    const err = await one.rest.repos.get(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppNotInstalledError);
    expect((err as Error).message).toMatch(/^the GitHub App helper is not installed on acme\/one: install it there/);
    expect(lookups()).toBe(2);
    await expect(access.gitToken(ref, { renew: true })).rejects.toBeInstanceOf(AppNotInstalledError);
    // Installed again: found again.
    const again = gh.installApp("acme", { repos: ["one"] });
    const two = await access.forRepo(ref);
    expect(two).not.toBe(one);
    expect((await two.rest.repos.get(ref)).status).toBe(200);
    expect(gh.requests.filter((r) => r.path.endsWith("/access_tokens")).at(-1)?.path).toBe(`/app/installations/${again.installationId}/access_tokens`);
  }, 20_000);

  it("a repository moved to another installation: the failed request says so and the next forRepo uses the new one", async () => {
    const { gh, acme, access } = await setUp();
    const ref = { owner: "acme", repo: "one" };
    await (await access.forRepo(ref)).rest.repos.get(ref);
    gh.uninstallApp(acme.installationId);
    const moved = gh.installApp("acme", { repos: "all" });
    const err = await (await access.forRepo(ref)).rest.repos.get(ref).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`acme/one moved from the GitHub App's installation ${acme.installationId} to ${moved.installationId}: the next attempt uses the new one`);
    expect(err).not.toBeInstanceOf(AppNotInstalledError);
    expect((await (await access.forRepo(ref)).rest.repos.get(ref)).status).toBe(200);
  }, 20_000);

  it("a 404 on a repository the installation served asks for its installation again (at most once a minute): left out, it is AppNotInstalledError", async () => {
    let now = Date.now();
    const { gh, acme, access, lookups } = await setUp({ now: () => now });
    const ref = { owner: "acme", repo: "one" };
    const one = await access.forRepo(ref);
    // An ordinary 404 (no such branch) on a repository found just now: not asked again.
    const missing = await one.rest.repos.getBranch({ ...ref, branch: "nope" }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RequestError);
    expect((missing as RequestError).status).toBe(404);
    now += 61_000;
    // A minute on it is asked again; still installed, the 404 stays the caller's.
    await expect(one.rest.repos.getBranch({ ...ref, branch: "nope" })).rejects.toMatchObject({ status: 404 });
    expect(lookups()).toBe(2);
    gh.setInstallationRepos(acme.installationId, ["two"]);
    now += 61_000;
    await expect(one.rest.repos.get(ref)).rejects.toBeInstanceOf(AppNotInstalledError);
    expect(lookups()).toBe(3);
  });

  it("a failure names what GitHub refused: the App's JWT, GITHUB_TOKEN, or an installation's token even when renewed", async () => {
    const { gh, app } = await setUp();
    const job = { attemptsMade: 0, opts: { attempts: 3 } };
    const signal = new AbortController().signal;
    const other = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs1", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    const wrongKey = appAccess({
      app: { appId: String(app.appId), privateKey: other.privateKey },
      logger,
      octokit: () => createOctokit({ token: "", baseUrl: gh.url, logger, maxRetries: 0 }),
    });
    const jwtRefused = await wrongKey.forRepo({ owner: "acme", repo: "one" }).catch((e: unknown) => e);
    expect(classifyFailure(jwtRefused, job, signal, { githubApp: true })).toMatchObject({
      retry: false,
      message: expect.stringMatching(/^GitHub refused the GitHub App's JWT for GET \/repos\/acme\/one\/installation \(401: .*\): check that GITHUB_APP_ID is the App's ID and GITHUB_APP_PRIVATE_KEY\(_FILE\) a private key of that App/),
    });
    const badToken = await createOctokit({ token: "ghp_wrong", baseUrl: gh.url, logger, maxRetries: 0 }).rest.repos.get({ owner: "acme", repo: "one" }).catch((e: unknown) => e);
    expect(classifyFailure(badToken, job, signal).message).toBe("GitHub rejected GITHUB_TOKEN for GET /repos/acme/one (401): the token is wrong, expired or revoked; set a valid GITHUB_TOKEN.");
    const installationRefused = await createOctokit({ token: "ghs_notminted", baseUrl: gh.url, logger, maxRetries: 0 }).rest.repos.get({ owner: "acme", repo: "one" }).catch((e: unknown) => e);
    expect(classifyFailure(installationRefused, job, signal, { githubApp: true })).toMatchObject({
      retry: true,
      message: expect.stringMatching(/^GitHub refused the GitHub App installation's token for GET \/repos\/acme\/one \(401\) even after a new one was minted/),
    });
    expect(classifyFailure(installationRefused, { attemptsMade: 2, opts: { attempts: 3 } }, signal, { githubApp: true })).toMatchObject({ retry: false });
  });
});
