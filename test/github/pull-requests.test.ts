import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createOctokit, type GitHub } from "../../src/github/octokit.js";
import { openOrUpdatePullRequest } from "../../src/github/pull-requests.js";
import { createLogger } from "../../src/logger.js";
import { type GitHubFake, startGitHubFake } from "../fakes/github/index.js";
import { type BareRemote, createBareRemote, git } from "../helpers/git-remote.js";

const OWNER = "acme";

describe("opening a pull request that is not ready for review (real Octokit against the GitHub fake)", () => {
  let fake: GitHubFake;
  let gh: GitHub;
  let remote: BareRemote;
  let work: string;

  beforeAll(async () => {
    remote = await createBareRemote({ "greet.txt": "hello\n" });
    work = await mkdtemp(path.join(tmpdir(), "awf-pr-"));
    await git(work, "clone", "-q", remote.dir, "w");
    const clone = path.join(work, "w");
    await git(clone, "push", "-q", "origin", "main:agent/empty");
    await git(clone, "checkout", "-q", "-b", "agent/eng-1");
    await writeFile(path.join(clone, "greet.txt"), "hello, world\n");
    await git(clone, "commit", "-q", "-am", "greet the world");
    await git(clone, "push", "-q", "origin", "agent/eng-1");

    fake = await startGitHubFake();
    // "free" behaves as a GitHub Free private repository: no drafts. "pro" has them.
    fake.addRepo({ owner: OWNER, name: "free", cloneUrl: remote.url, private: true, draftPullRequests: false });
    fake.addRepo({ owner: OWNER, name: "pro", cloneUrl: remote.url, private: true });
    gh = createOctokit({ token: fake.token, baseUrl: fake.url, logger: createLogger({ level: "silent" }), maxRetries: 0, writeSpacingMs: 0 });
  });
  afterAll(async () => {
    await fake?.close();
    await remote?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });
  beforeEach(() => {
    fake.requests.length = 0;
  });

  const open = (repo: string, draft: boolean, body = "body", branch = "agent/eng-1") =>
    openOrUpdatePullRequest(gh, { owner: OWNER, repo, branch, base: "main", title: "ENG-1: Greet the world", body, draft });
  const sent = (method: string, suffix: string) => fake.requests.filter((r) => r.method === method && r.path.endsWith(suffix));

  it("where drafts are refused: a normal PR titled [WIP] that keeps the marker while not ready and drops it when ready", async () => {
    const opened = await open("free", true);
    expect(opened).toMatchObject({ created: true, draft: false, readyForReview: false, title: "[WIP] ENG-1: Greet the world" });
    expect(opened.draftsUnsupported).toMatch(/^acme\/free has no draft pull requests .* #1 was opened as a normal pull request titled "\[WIP\]"/);
    expect(sent("POST", "/repos/acme/free/pulls").map((r) => (r.body as { draft: boolean }).draft)).toEqual([true, false]);
    expect(fake.state.pulls.filter((x) => x.repoKey === "acme/free")).toMatchObject([{ draft: false, title: "[WIP] ENG-1: Greet the world" }]);

    // Checks still fail on the next run: same PR, still titled not ready.
    const again = await open("free", true, "still failing");
    expect(again).toMatchObject({ created: false, number: opened.number, readyForReview: false, title: "[WIP] ENG-1: Greet the world" });

    // Checks pass: the marker goes (that is "ready" here); nothing is asked of GraphQL.
    const ready = await open("free", false, "passing");
    expect(ready).toMatchObject({ created: false, number: opened.number, draft: false, readyForReview: true, title: "ENG-1: Greet the world" });
    expect(ready.notReady).toBeUndefined();
    expect(sent("PATCH", `/pulls/${opened.number}`)).toHaveLength(2);
    expect(sent("POST", "/graphql")).toHaveLength(0);

    // A ready PR is never turned back into a not-ready one behind a reviewer's back.
    const later = await open("free", true, "failing again");
    expect(later).toMatchObject({ readyForReview: true, title: "ENG-1: Greet the world" });
    expect(fake.state.pulls.filter((x) => x.repoKey === "acme/free")).toMatchObject([{ state: "open", draft: false, title: "ENG-1: Greet the world", body: "failing again" }]);
  });

  it("where drafts exist: a real draft with a plain title, marked ready through GraphQL", async () => {
    const opened = await open("pro", true);
    expect(opened).toMatchObject({ created: true, draft: true, readyForReview: false, title: "ENG-1: Greet the world" });
    expect(opened.draftsUnsupported).toBeUndefined();
    expect(sent("POST", "/repos/acme/pro/pulls")).toHaveLength(1);
    const ready = await open("pro", false);
    expect(ready).toMatchObject({ draft: false, readyForReview: true, title: "ENG-1: Greet the world" });
    expect(sent("POST", "/graphql")).toHaveLength(1);
    expect(fake.state.pulls.find((x) => x.repoKey === "acme/pro")?.draft).toBe(false);
  });

  it("another 422 on create is not taken for the draft refusal", async () => {
    await expect(open("pro", true, "body", "agent/empty")).rejects.toMatchObject({ status: 422 });
    expect(sent("POST", "/repos/acme/pro/pulls")).toHaveLength(1);
    // Where drafts are refused, the retry without a draft meets the same real error and reports it.
    await expect(open("free", true, "body", "agent/empty")).rejects.toMatchObject({
      status: 422,
      response: { data: { errors: [{ message: "No commits between main and agent/empty" }] } },
    });
  });
});
