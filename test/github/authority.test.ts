import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mayDirectAgent, PermissionCache } from "../../src/github/authority.js";
import { createOctokit, type GitHub } from "../../src/github/octokit.js";
import { createLogger } from "../../src/logger.js";
import { type GitHubFake, startGitHubFake } from "../fakes/github/index.js";

const OWNER = "acme";
const REPO = "widgets";
const user = (login: string, association: string) => ({ login, type: "User", association });

describe("who may direct the agent (real Octokit against the GitHub fake)", () => {
  let fake: GitHubFake;
  let gh: GitHub;

  beforeAll(async () => {
    fake = await startGitHubFake();
    // Private, so a stranger's answer is "none" as on a private repository.
    fake.addRepo({ owner: OWNER, name: REPO, cloneUrl: "https://example.invalid/acme/widgets.git", private: true });
    fake.addOrgMember(OWNER, "ruth");
    fake.setPermission(OWNER, REPO, "grace", "write");
    fake.setPermission(OWNER, REPO, "mona", "maintain");
    fake.setPermission(OWNER, REPO, "tom", "triage");
    gh = createOctokit({ token: fake.token, baseUrl: fake.url, logger: createLogger({ level: "silent" }), maxRetries: 0 });
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
  });

  const permissionCalls = (login?: string) =>
    fake.requests.filter((r) => r.method === "GET" && r.path.startsWith(`/repos/${OWNER}/${REPO}/collaborators/${login ?? ""}`)).length;
  const check = (author: { login: string; type: string; association: string }, cache = new PermissionCache(), signal?: AbortSignal) =>
    mayDirectAgent(gh, { owner: OWNER, repo: REPO, author, selfLogin: fake.botLogin, cache, signal });

  it("a read-only MEMBER may not; a write or maintain collaborator may; triage may not", async () => {
    expect(await check(user("ruth", "MEMBER"))).toEqual({ allowed: false, reason: "ruth has read permission (write or more needed)" });
    expect(await check(user("grace", "COLLABORATOR"))).toEqual({ allowed: true, via: "repository permission write" });
    // maintain reaches us as legacy permission "write" with role_name "maintain".
    expect(await check(user("mona", "MEMBER"))).toEqual({ allowed: true, via: "repository permission write (role maintain)" });
    expect(await check(user("tom", "COLLABORATOR"))).toEqual({ allowed: false, reason: "tom has read permission (role triage) (write or more needed)" });
    expect(await check(user("mallory", "NONE"))).toEqual({ allowed: false, reason: "mallory has none permission (write or more needed)" });
    expect(permissionCalls()).toBe(5);
  });

  it("OWNER is trusted from the association; bots and our own account never ask the API", async () => {
    expect(await check(user(OWNER, "OWNER"))).toEqual({ allowed: true, via: "author_association OWNER" });
    expect(await check({ login: "dependabot[bot]", type: "Bot", association: "NONE" })).toMatchObject({ allowed: false, reason: "dependabot[bot] is a bot" });
    expect(await check(user(fake.botLogin, "COLLABORATOR"))).toMatchObject({ allowed: false, reason: "our own comment" });
    // Positive signal first: the fake did answer during this test, just not the permission route.
    await gh.rest.users.getAuthenticated();
    expect(fake.requests.map((r) => r.path)).toEqual(["/user"]);
  });

  it("a review's twenty comments, checked at once and again, cost one API call", async () => {
    const cache = new PermissionCache();
    const burst = await Promise.all(Array.from({ length: 20 }, () => check(user("grace", "COLLABORATOR"), cache)));
    expect(burst.every((a) => a.allowed)).toBe(true);
    expect(await check(user("grace", "MEMBER"), cache)).toMatchObject({ allowed: true });
    expect(await check(user("ruth", "MEMBER"), cache)).toMatchObject({ allowed: false });
    expect(permissionCalls("grace")).toBe(1);
    expect(permissionCalls("ruth")).toBe(1);
  });

  it("without an explicit cache, checks through one client share one", async () => {
    const shared = (login: string) => mayDirectAgent(gh, { owner: OWNER, repo: REPO, author: user(login, "COLLABORATOR"), selfLogin: null });
    expect(await shared("mona")).toMatchObject({ allowed: true });
    expect(await shared("mona")).toMatchObject({ allowed: true });
    expect(permissionCalls("mona")).toBe(1);
  });

  it("answers expire after the TTL, and the cache keeps at most maxEntries", async () => {
    let now = 0;
    const cache = new PermissionCache({ ttlMs: 60_000, maxEntries: 2, now: () => now });
    await check(user("grace", "COLLABORATOR"), cache);
    now = 59_999;
    await check(user("grace", "COLLABORATOR"), cache);
    expect(permissionCalls("grace")).toBe(1);
    // Write was revoked: after the TTL the new answer counts.
    fake.setPermission(OWNER, REPO, "grace", "read");
    now = 60_000;
    expect(await check(user("grace", "COLLABORATOR"), cache)).toMatchObject({ allowed: false });
    expect(permissionCalls("grace")).toBe(2);
    fake.setPermission(OWNER, REPO, "grace", "write");

    // Two more logins push grace (the oldest) out.
    await check(user("mona", "COLLABORATOR"), cache);
    await check(user("tom", "COLLABORATOR"), cache);
    await check(user("grace", "COLLABORATOR"), cache);
    expect(permissionCalls("grace")).toBe(3);
  });

  it("one caller's abort does not fail another caller sharing its look-up; failures are not remembered", async () => {
    const cache = new PermissionCache();
    const aborted = AbortSignal.abort(new Error("job stopped"));
    const [first, second] = await Promise.allSettled([
      check(user("grace", "COLLABORATOR"), cache, aborted),
      check(user("grace", "COLLABORATOR"), cache),
    ]);
    expect(first).toMatchObject({ status: "rejected" });
    expect(second).toEqual({ status: "fulfilled", value: { allowed: true, via: "repository permission write" } });

    fake.failNext(1, "server-error", { route: `GET /repos/${OWNER}/${REPO}/collaborators/mona/permission` });
    await expect(check(user("mona", "COLLABORATOR"), cache)).rejects.toThrow(
      /Could not check whether mona may direct the agent: GET \/repos\/acme\/widgets\/collaborators\/mona\/permission failed/,
    );
    expect(await check(user("mona", "COLLABORATOR"), cache)).toMatchObject({ allowed: true });
  });
});
