import { generateKeyPairSync } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
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
});
