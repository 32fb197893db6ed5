import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { prClosed, prCommentCreated } from "../fixtures/github-events.js";
import { createBareRemote } from "../helpers/git-remote.js";
import { REVIEWER } from "../helpers/review.js";
import { bash, create, say } from "../helpers/turns.js";
import { APP_SLUG, OWNER, REPO, startWorld, type World } from "../helpers/world.js";

const run = promisify(execFile);
const BOT = `${APP_SLUG}[bot]`;
const FILES = {
  "README.md": "# widgets\n",
  "greet.txt": "hello\n",
  "check.sh": "#!/bin/sh\ngrep -q hello greet.txt\n",
};
const CHECKS = { checkCommand: "sh check.sh" };

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Author name and email of each commit on `branch` of a bare repository, newest first. */
async function authors(gitDir: string, branch: string): Promise<string[]> {
  const { stdout } = await run("git", ["-C", gitDir, "log", "--format=%an <%ae>", `main..${branch}`]);
  return stdout.trim().split("\n");
}

async function revisions(w: World) {
  return w.deps.queues.revise.getJobCounts("completed", "failed", "active", "waiting", "delayed");
}

/** Labels a new issue (optionally routed to `repo` by a repo: label) and waits for its implement job. */
async function label(w: World, repo?: string) {
  const labels = repo ? [w.agentLabel, w.linear.store.seedLabel({ name: `repo:${repo}` })] : undefined;
  const issue = w.newIssue(labels ? { labels } : {});
  const res = await w.labelIssue(issue);
  const jobId = res.body.jobId as string;
  return { issue, jobId, outcome: await w.waitForJob(jobId, "implement", 30_000) };
}

describe("running as a GitHub App", () => {
  it("implement → review → merge: PR, comments and commits by the App's bot, pushes over HTTP with installation tokens", async () => {
    world = await startWorld({ githubApp: true, files: FILES, env: { REVISION_DEBOUNCE_MS: "50" } });
    const w = world;
    const app = w.githubApp!;
    expect(w.env.GITHUB_TOKEN).toBeUndefined();
    w.github.setPermission(OWNER, REPO, REVIEWER.login, "write");
    w.anthropic.script([create("greet.txt", "hello, world\n"), say("## Summary\nGreeting updated.")]);
    const { issue, outcome } = await label(w);
    expect(outcome).toBe("completed");
    const pr = (await w.deps.tasks.get(issue.id))?.prNumber as number;

    const email = `${app.botUserId}+${BOT}@users.noreply.github.com`;
    expect(await authors(w.remote.dir, "agent/eng-1")).toEqual([`${BOT} <${email}>`]);

    // A reviewer asks for a change: the revision's summary comment is the bot's too.
    w.anthropic.script([create("greet.txt", "hello, World!\n"), say("## Summary\nCapitalised World.")]);
    const asked = w.github.addIssueComment(OWNER, REPO, pr, { user: REVIEWER.login, body: "@agent capitalise World" });
    await w.sendGitHub("issue_comment", prCommentCreated({ owner: OWNER, repo: REPO, pr, id: asked.id, body: "@agent capitalise World", by: REVIEWER }));
    await w.waitFor(async () => (await revisions(w)).completed === 1, "the revision");
    const summary = w.github.state.issueComments.find((c) => c.issueNumber === pr && c.user === BOT);
    expect(summary?.body).toContain("Capitalised World.");
    expect(await authors(w.remote.dir, "agent/eng-1")).toEqual([`${BOT} <${email}>`, `${BOT} <${email}>`]);

    // Every git request carried an installation token of OWNER's installation; both pushes went through.
    const pushes = w.github.gitRequests.filter((g) => g.service === "git-receive-pack" && g.phase === "rpc");
    expect(pushes).toHaveLength(2);
    expect(w.github.gitRequests.every((g) => g.token?.startsWith("ghs_") && g.login === BOT && g.status === 200)).toBe(true);

    w.github.mergePull(OWNER, REPO, pr);
    const closed = await w.sendGitHub("pull_request", prClosed({ owner: OWNER, repo: REPO, pr, branch: "agent/eng-1", merged: true, by: REVIEWER }));
    expect(await w.waitForJob(closed.body.jobId, "lifecycle")).toBe("completed");
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "merged" });
    // The service never used a user token: only the App's JWT and its installation's tokens.
    const identities = new Set(w.github.requests.map((r) => r.identity));
    expect([...identities].sort()).toEqual([`app:${app.appId}`, `installation:${app.installationId}`]);
    const { data: opened } = await w.octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: pr });
    expect(opened.user).toMatchObject({ login: BOT, type: "Bot" });
  });

  it("ignores the bot's own PR comment as ours, even when it addresses the agent", async () => {
    world = await startWorld({ githubApp: true, files: FILES });
    const w = world;
    w.anthropic.script([create("greet.txt", "hello, world\n"), say("## Summary\nDone.")]);
    const { issue, outcome } = await label(w);
    expect(outcome).toBe("completed");
    const pr = (await w.deps.tasks.get(issue.id))?.prNumber as number;
    const own = w.github.addIssueComment(OWNER, REPO, pr, { user: BOT, body: "@agent please also rename check.sh" });
    const sent = await w.sendGitHub(
      "issue_comment",
      prCommentCreated({ owner: OWNER, repo: REPO, pr, id: own.id, body: "@agent please also rename check.sh", by: { login: BOT, type: "Bot", association: "NONE" } }),
    );
    expect(await w.waitForJob(sent.body.jobId, "feedback")).toBe("completed");
    expect((await w.deps.queues.feedback.getJob(sent.body.jobId))?.returnvalue).toEqual({
      action: "ignored",
      reason: "author may not direct the agent: our own comment",
    });
    expect(await revisions(w)).toMatchObject({ completed: 0, active: 0, waiting: 0, delayed: 0 });
  });

  it("renews a token GitHub stopped taking while the agent worked: the push and the PR go through with a new one", async () => {
    let requests = 0;
    // The agent's second model call comes after its first edit: every token issued so far dies then.
    world = await startWorld({
      githubApp: true,
      files: FILES,
      anthropic: {
        intercept: () => {
          if (++requests === 2) world?.github.expireInstallationTokens();
          return undefined;
        },
      },
    });
    const w = world;
    // The bot's identity is known already, so the push is the first use of a token after they died.
    await w.deps.clients?.github.identity();
    w.anthropic.script([create("greet.txt", "hello, world\n"), say("## Summary\nDone.")]);
    const { issue, jobId, outcome } = await label(w);
    expect(outcome).toBe("completed");
    expect(requests).toBe(2);
    expect((await w.deps.queues.implement.getJob(jobId))?.attemptsMade).toBe(1);
    expect(await w.remote.show("agent/eng-1", "greet.txt")).toBe("hello, world");
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open" });

    // git was refused the old token once, then pushed with a new one.
    const pushes = w.github.gitRequests.filter((g) => g.service === "git-receive-pack");
    const refused = pushes.filter((g) => g.status === 401);
    const accepted = pushes.filter((g) => g.status === 200);
    expect(refused.length).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThan(0);
    expect(new Set(accepted.map((g) => g.token)).has(refused[0]?.token ?? null)).toBe(false);
    expect(w.logs.some((l) => l.includes("git refused the installation token"))).toBe(true);
  });

  it("renews a token before it expires: a run longer than the token's life pushes with no refused request", async () => {
    world = await startWorld({ githubApp: { tokenTtlMs: 2_000 }, files: FILES });
    const w = world;
    w.anthropic.script([bash("sleep 2.5"), create("greet.txt", "hello, world\n"), say("## Summary\nDone.")]);
    const { outcome } = await label(w);
    expect(outcome).toBe("completed");
    expect(await w.remote.show("agent/eng-1", "greet.txt")).toBe("hello, world");
    const fetches = w.github.gitRequests.filter((g) => g.service === "git-upload-pack");
    const pushes = w.github.gitRequests.filter((g) => g.service === "git-receive-pack");
    expect(pushes.length).toBeGreaterThan(0);
    expect([...fetches, ...pushes].every((g) => g.status === 200)).toBe(true);
    // The clone's token had expired by the push, so the push used another one.
    expect(pushes[0]?.token).not.toBe(fetches[0]?.token);
    expect(w.github.requests.filter((r) => r.path.endsWith("/access_tokens")).length).toBeGreaterThan(1);
  });

  it("serves two owners' installations from one deployment, each repository through its own", async () => {
    const globex = await createBareRemote(FILES);
    try {
      world = await startWorld({
        githubApp: true,
        files: FILES,
        routing: { repos: { [`${OWNER}/${REPO}`]: CHECKS, "globex/gadgets": CHECKS } },
      });
      const w = world;
      w.github.addRepo({ owner: "globex", name: "gadgets", cloneUrl: globex.url, defaultBranch: "main", http: true });
      const second = w.github.installApp("globex", { repos: "all" });
      w.anthropic.script([create("greet.txt", "hello, acme\n"), say("## Summary\nacme.")]);
      expect((await label(w)).outcome).toBe("completed");
      w.anthropic.script([create("greet.txt", "hello, globex\n"), say("## Summary\nglobex.")]);
      expect((await label(w, "globex/gadgets")).outcome).toBe("completed");

      expect(await w.remote.show("agent/eng-1", "greet.txt")).toBe("hello, acme");
      expect(await globex.show("agent/eng-2", "greet.txt")).toBe("hello, globex");
      // Each owner's requests and pushes used its own installation.
      const byRepo = (owner: string) => new Set(w.github.requests.filter((r) => r.path.startsWith(`/repos/${owner}/`) && !r.path.endsWith("/installation")).map((r) => r.identity));
      expect([...byRepo(OWNER)]).toEqual([`installation:${w.githubApp!.installationId}`]);
      expect([...byRepo("globex")]).toEqual([`installation:${second.installationId}`]);
      const tokens = (owner: string) => new Set(w.github.gitRequests.filter((g) => g.owner === owner).map((g) => g.token));
      for (const t of tokens("globex")) expect(tokens(OWNER).has(t)).toBe(false);
      const { data: pulls } = await w.octokit.rest.pulls.list({ owner: "globex", repo: "gadgets", state: "all" });
      expect(pulls.map((p) => p.user?.login)).toEqual([BOT]);
    } finally {
      await globex.cleanup();
    }
  });

  it("fails a task on a repository without the App once, saying to install the App there", async () => {
    world = await startWorld({
      githubApp: true,
      files: FILES,
      routing: { repos: { [`${OWNER}/${REPO}`]: CHECKS, [`${OWNER}/secret`]: CHECKS } },
    });
    const w = world;
    w.github.addRepo({ owner: OWNER, name: "secret", cloneUrl: w.remote.url, defaultBranch: "main", http: true });
    const { issue, jobId, outcome } = await label(w, `${OWNER}/secret`);
    expect(outcome).toBe("failed");
    const job = await w.deps.queues.implement.getJob(jobId);
    expect(job?.attemptsMade).toBe(1);
    const message = `the GitHub App ${APP_SLUG} is not installed on ${OWNER}/secret: install it there`;
    expect(job?.failedReason).toContain(message);
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "failed" });
    expect(w.linear.store.commentsFor(issue.id).map((c) => c.body).join("\n")).toContain(message);
    expect(w.anthropic.requests).toHaveLength(0);
  });
});
