import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { Octokit } from "@octokit/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitHubFake, startGitHubFake } from "./github/index.js";

const run = promisify(execFile);
const GIT_ID = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"];

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("git", [...GIT_ID, ...args], { cwd });
  return stdout.trim();
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (err) {
    return (err as { status: number }).status;
  }
  throw new Error("expected the request to fail");
}

describe("GitHub REST fake with the real Octokit", () => {
  let dir: string;
  let bare: string;
  let mainSha: string;
  let featureSha: string;
  let fake: GitHubFake;
  let octokit: Octokit;
  const owner = "acme";
  const repo = "widgets";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gh-fake-"));
    bare = join(dir, "origin.git");
    const work = join(dir, "work");
    await git(dir, "init", "--bare", "--initial-branch=main", bare);
    await git(dir, "clone", bare, work);
    await git(work, "checkout", "-b", "main");
    await writeFile(join(work, "README.md"), "hello\n");
    await git(work, "add", ".");
    await git(work, "commit", "-m", "initial");
    await git(work, "push", "origin", "main");
    mainSha = await git(work, "rev-parse", "HEAD");
    await git(work, "checkout", "-b", "feature/login");
    await writeFile(join(work, "login.ts"), "export const login = 1;\n");
    await git(work, "add", ".");
    await git(work, "commit", "-m", "add login");
    await git(work, "push", "origin", "feature/login");
    featureSha = await git(work, "rev-parse", "HEAD");

    fake = await startGitHubFake({ token: "ghs_testtoken" });
    fake.addRepo({ owner, name: repo, cloneUrl: pathToFileURL(bare).href });
    octokit = new Octokit({ auth: fake.token, baseUrl: fake.url, log: quiet });
  });

  afterAll(async () => {
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves the authenticated user and the repository", async () => {
    const me = await octokit.rest.users.getAuthenticated();
    expect(me.data.login).toBe("agent-workforce-bot");
    expect(me.headers["x-ratelimit-limit"]).toBe("5000");
    expect(me.headers["x-github-request-id"]).toBeTruthy();

    const { data } = await octokit.rest.repos.get({ owner, repo });
    expect(data.clone_url).toBe(pathToFileURL(bare).href);
    expect(data.full_name).toBe("acme/widgets");
    expect(data.default_branch).toBe("main");
    expect(data.permissions?.push).toBe(true);
  });

  it("creates pull requests from real branch heads and rejects duplicates", async () => {
    const { data: pr, status } = await octokit.rest.pulls.create({
      owner,
      repo,
      title: "Add login",
      head: "feature/login",
      base: "main",
      body: "Implements login",
      draft: true,
    });
    expect(status).toBe(201);
    expect(pr.number).toBe(1);
    expect(pr.head.sha).toBe(featureSha);
    expect(pr.base.sha).toBe(mainSha);
    expect(pr.head.label).toBe("acme:feature/login");
    expect(pr.draft).toBe(true);
    expect(pr.merged).toBe(false);
    expect(pr.user?.login).toBe("agent-workforce-bot");
    expect(pr.commits).toBe(1);
    expect(pr.additions).toBe(1);

    const dup = octokit.rest.pulls.create({
      owner,
      repo,
      title: "again",
      head: "feature/login",
      base: "main",
    });
    await expect(dup).rejects.toMatchObject({
      status: 422,
      response: { data: { errors: [{ message: "A pull request already exists for acme:feature/login." }] } },
    });
    expect(
      await statusOf(octokit.rest.pulls.create({ owner, repo, title: "x", head: "nope", base: "main" })),
    ).toBe(422);

    const found = await octokit.rest.pulls.list({ owner, repo, head: "acme:feature/login", state: "open" });
    expect(found.data.map((p) => p.number)).toEqual([1]);
    const other = await octokit.rest.pulls.list({ owner, repo, head: "acme:other" });
    expect(other.data).toEqual([]);
    // Like GitHub, a `head` without the `owner:` prefix is silently ignored.
    const unscoped = await octokit.rest.pulls.list({ owner, repo, head: "no-such-branch" });
    expect(unscoped.data.map((p) => p.number)).toEqual([1]);

    const updated = await octokit.rest.pulls.update({ owner, repo, pull_number: 1, title: "Add login v2" });
    expect(updated.data.title).toBe("Add login v2");
    const got = await octokit.rest.pulls.get({ owner, repo, pull_number: 1 });
    expect(got.data.title).toBe("Add login v2");
    expect(got.data.html_url).toBe("https://github.com/acme/widgets/pull/1");
  });

  it("creates, updates and lists issue comments", async () => {
    const created = await octokit.rest.issues.createComment({
      owner,
      repo,
      issue_number: 1,
      body: "Working on it",
    });
    expect(created.status).toBe(201);
    const updated = await octokit.rest.issues.updateComment({
      owner,
      repo,
      comment_id: created.data.id,
      body: "Done",
    });
    expect(updated.data.body).toBe("Done");
    const list = await octokit.rest.issues.listComments({ owner, repo, issue_number: 1 });
    expect(list.data.map((c) => [c.id, c.body, c.user?.login])).toEqual([
      [created.data.id, "Done", "agent-workforce-bot"],
    ]);
    expect(
      await statusOf(octokit.rest.issues.createComment({ owner, repo, issue_number: 99, body: "x" })),
    ).toBe(404);
  });

  it("records commit statuses and combines them", async () => {
    const created = await octokit.rest.repos.createCommitStatus({
      owner,
      repo,
      sha: featureSha,
      state: "pending",
      context: "agent",
      description: "working",
      target_url: "https://example.com/run/1",
    });
    expect(created.status).toBe(201);
    await octokit.rest.repos.createCommitStatus({
      owner,
      repo,
      sha: featureSha,
      state: "success",
      context: "agent",
    });
    const list = await octokit.rest.repos.listCommitStatusesForRef({ owner, repo, ref: featureSha });
    expect(list.data.map((s) => s.state)).toEqual(["success", "pending"]);
    const combined = await octokit.rest.repos.getCombinedStatusForRef({ owner, repo, ref: "feature/login" });
    expect(combined.data.state).toBe("success");
    expect(combined.data.sha).toBe(featureSha);
    expect(combined.data.total_count).toBe(1);
  });

  it("reports collaborator permissions", async () => {
    fake.setPermission(owner, repo, "alice", "maintain");
    const alice = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: "alice" });
    expect(alice.data.permission).toBe("write");
    expect(alice.data.role_name).toBe("maintain");
    const stranger = await octokit.rest.repos.getCollaboratorPermissionLevel({
      owner,
      repo,
      username: "mallory",
    });
    expect(stranger.data.permission).toBe("read");
  });

  it("on a private repository a stranger has none; an organisation member reads and is a MEMBER", async () => {
    fake.addRepo({ owner, name: "vault", cloneUrl: pathToFileURL(bare).href, private: true });
    const stranger = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo: "vault", username: "mallory" });
    expect(stranger.data).toMatchObject({ permission: "none", role_name: "" });
    fake.addOrgMember(owner, "ruth");
    const member = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo: "vault", username: "ruth" });
    expect(member.data).toMatchObject({ permission: "read", role_name: "read", user: { login: "ruth", permissions: { pull: true, push: false } } });
    fake.setPermission(owner, "vault", "ruth", "maintain");
    const raised = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo: "vault", username: "ruth" });
    expect(raised.data).toMatchObject({ permission: "write", role_name: "maintain" });
    const { data: pr } = await octokit.rest.pulls.create({ owner, repo: "vault", title: "t", head: "feature/login", base: "main" });
    const { id } = fake.addIssueComment(owner, "vault", pr.number, { user: "ruth", body: "hi" });
    const { data: comment } = await octokit.rest.issues.getComment({ owner, repo: "vault", comment_id: id });
    expect(comment.author_association).toBe("MEMBER");
  });

  it("refuses a draft with GitHub's own 422 where the plan has no drafts, and takes the same PR as a normal one", async () => {
    fake.addRepo({ owner, name: "free-private", cloneUrl: pathToFileURL(bare).href, private: true, draftPullRequests: false });
    const draft = octokit.rest.pulls.create({ owner, repo: "free-private", title: "t", head: "feature/login", base: "main", draft: true });
    await expect(draft).rejects.toMatchObject({
      status: 422,
      response: {
        data: {
          message: "Draft pull requests are not supported in this repository.",
          documentation_url: "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
        },
      },
    });
    await draft.catch((err: { response: { data: object } }) => expect(err.response.data).not.toHaveProperty("errors"));
    expect((await octokit.rest.pulls.list({ owner, repo: "free-private" })).data).toEqual([]);
    const { data: pr, status } = await octokit.rest.pulls.create({ owner, repo: "free-private", title: "t", head: "feature/login", base: "main" });
    expect(status).toBe(201);
    expect(pr.draft).toBe(false);
    fake.setDraftsSupported(owner, "free-private", true);
    await octokit.rest.pulls.update({ owner, repo: "free-private", pull_number: pr.number, state: "closed" });
    const { data: later } = await octokit.rest.pulls.create({ owner, repo: "free-private", title: "t", head: "feature/login", base: "main", draft: true });
    expect(later.draft).toBe(true);
  });

  it("lists review comments and threads replies", async () => {
    const { id } = fake.addReviewComment(owner, repo, 1, {
      user: "alice",
      body: "Rename this",
      path: "login.ts",
      line: 1,
    });
    const reply = await octokit.rest.pulls.createReplyForReviewComment({
      owner,
      repo,
      pull_number: 1,
      comment_id: id,
      body: "Renamed",
    });
    expect(reply.status).toBe(201);
    expect(reply.data.in_reply_to_id).toBe(id);
    expect(reply.data.path).toBe("login.ts");
    const comments = await octokit.rest.pulls.listReviewComments({ owner, repo, pull_number: 1 });
    expect(comments.data.map((c) => [c.user?.login, c.body, c.in_reply_to_id, c.commit_id])).toEqual([
      ["alice", "Rename this", undefined, featureSha],
      ["agent-workforce-bot", "Renamed", id, featureSha],
    ]);
  });

  it("creates reviews and enforces GitHub's own-pull-request rule", async () => {
    expect(
      await statusOf(octokit.rest.pulls.createReview({ owner, repo, pull_number: 1, event: "APPROVE" })),
    ).toBe(422);
    fake.addToken("ghp_alice", "alice");
    const alice = new Octokit({ auth: "ghp_alice", baseUrl: fake.url, log: quiet });
    const review = await alice.rest.pulls.createReview({
      owner,
      repo,
      pull_number: 1,
      event: "REQUEST_CHANGES",
      body: "Please add tests",
    });
    expect(review.data.state).toBe("CHANGES_REQUESTED");
    expect(review.data.commit_id).toBe(featureSha);
    const reviews = await octokit.rest.pulls.listReviews({ owner, repo, pull_number: 1 });
    expect(reviews.data.find((r) => r.id === review.data.id)?.user?.login).toBe("alice");
  });

  it("merges pull requests", async () => {
    // Drafts cannot be merged through the API, as on GitHub; the test helper merges regardless.
    expect(await statusOf(octokit.rest.pulls.merge({ owner, repo, pull_number: 1 }))).toBe(405);
    fake.mergePull(owner, repo, 1);
    const pr = await octokit.rest.pulls.get({ owner, repo, pull_number: 1 });
    expect(pr.data.merged).toBe(true);
    expect(pr.data.state).toBe("closed");
    expect(pr.data.merged_at).toBeTruthy();
    const closed = await octokit.rest.pulls.list({ owner, repo, state: "closed" });
    expect(closed.data.map((p) => p.number)).toEqual([1]);
  });

  it("injects failures and rejects bad credentials", async () => {
    fake.failNext(1, "server-error");
    expect(await statusOf(octokit.rest.repos.get({ owner, repo }))).toBe(502);
    fake.failNext(1, "secondary-rate-limit", { retryAfterSeconds: 7 });
    await expect(octokit.rest.repos.get({ owner, repo })).rejects.toMatchObject({
      status: 403,
      message: expect.stringMatching(/secondary rate limit/),
      response: { headers: { "retry-after": "7" } },
    });
    fake.failNext(1, "rate-limit");
    await expect(octokit.rest.repos.get({ owner, repo })).rejects.toMatchObject({
      status: 403,
      response: { headers: { "x-ratelimit-remaining": "0" } },
    });
    expect((await octokit.rest.repos.get({ owner, repo })).status).toBe(200);

    const bad = new Octokit({ auth: "wrong", baseUrl: fake.url, log: quiet });
    await expect(bad.rest.repos.get({ owner, repo })).rejects.toMatchObject({
      status: 401,
      response: { data: { message: "Bad credentials" } },
    });
    expect(await statusOf(octokit.request("GET /nope"))).toBe(404);
    expect(
      fake.requests.filter((r) => r.method === "POST" && r.path === "/repos/acme/widgets/pulls"),
    ).toHaveLength(3);
  });
});
