import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { inspect, promisify } from "node:util";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { branchForIssue, runGit, Workspace } from "../../src/workspace/index.js";

const execFileAsync = promisify(execFile);
const TOKEN = "ghp_testtoken123";
const SECRETS = [TOKEN, Buffer.from(`x-access-token:${TOKEN}`).toString("base64")];
const BOT = { name: "Agent Bot", email: "bot@agents.example" };
const HUMAN = ["-c", "user.name=Human Reviewer", "-c", "user.email=human@example.com"];
const repo = { owner: "acme", name: "widgets" };

let root: string;
let env: Record<string, string>;
let cloneUrl: string;
let dataDir: string;
let logs: string[];
let ws: Workspace;
let clones = 0;

const git = async (cwd: string, ...args: string[]) =>
  (await execFileAsync("git", args, { cwd, env })).stdout.trim();
const job = (key: string, branch = "agent/eng-42", token?: string) =>
  ({ repo, cloneUrl, token, key, branch, baseBranch: "main" }) as const;
const mirror = () => join(dataDir, "mirrors", "acme", "widgets.git");

/** Clones the remote as a human would, commits one file on a branch and pushes it. */
async function humanPush(branch: string, file: string, content: string): Promise<string> {
  const dir = join(root, `human-${clones++}`);
  await git(root, "clone", "--quiet", cloneUrl, dir);
  await git(dir, "checkout", "--quiet", "-B", branch, `origin/${branch}`);
  await writeFile(join(dir, file), content);
  await git(dir, "add", "-A");
  await git(dir, ...HUMAN, "commit", "--quiet", "-m", `human edit of ${file}`);
  await git(dir, "push", "--quiet", "origin", `HEAD:refs/heads/${branch}`);
  return git(dir, "rev-parse", "HEAD");
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), "awf-ws-")));
  env = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: root, LANG: "C.UTF-8" };
  await git(root, "init", "--quiet", "--bare", "-b", "main", "remote.git");
  cloneUrl = `file://${join(root, "remote.git")}`;
  const seed = join(root, "seed");
  await git(root, "clone", "--quiet", cloneUrl, seed);
  await writeFile(join(seed, "README.md"), "# widgets\n\nline one\n");
  await git(seed, "add", "-A");
  await git(seed, ...HUMAN, "commit", "--quiet", "-m", "initial");
  await git(seed, "push", "--quiet", "origin", "HEAD:refs/heads/main");
  dataDir = join(root, "data");
  logs = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void logs.push(line) });
  ws = new Workspace({ dataDir, baseEnv: env, logger });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const cloneCount = () => logs.filter((l) => l.includes("cloned repository mirror")).length;

describe("Workspace", () => {
  it("clones the mirror once, with remote-tracking refspecs, and reuses it for the next job", async () => {
    const first = await ws.createWorktree(job("job-1"));
    expect(await git(mirror(), "config", "--get-all", "remote.origin.fetch")).toContain(
      "+refs/heads/*:refs/remotes/origin/*",
    );
    expect(await git(mirror(), "config", "remote.origin.pushurl")).toBe("agent-workforce-no-push://disabled");
    await expect(git(mirror(), "config", "remote.origin.mirror")).rejects.toThrow();
    await writeFile(join(mirror(), "marker"), "survives");
    const inode = (await stat(join(mirror(), "objects"))).ino;
    const newMain = await humanPush("main", "CHANGELOG.md", "v2\n");

    const second = await ws.createWorktree(job("job-2", "agent/eng-43"));
    expect(await readFile(join(mirror(), "marker"), "utf8")).toBe("survives");
    expect((await stat(join(mirror(), "objects"))).ino).toBe(inode);
    expect(cloneCount()).toBe(1);
    expect(second.startSha).toBe(newMain);
    expect(first.startSha).not.toBe(newMain);
    expect(await ws.ensureMirror({ repo, cloneUrl })).toBe(mirror());
  });

  it("keeps commits whose push was rejected, and the next job on the branch starts from them and pushes them", async () => {
    // A pre-receive hook stands in for a protected-file rule or a signed-commit requirement.
    const hook = join(root, "remote.git", "hooks", "pre-receive");
    await writeFile(hook, "#!/bin/sh\necho 'refusing to allow a GitHub App to create or update workflow' >&2\nexit 1\n", { mode: 0o755 });
    const first = await ws.createWorktree(job("job-1"));
    await writeFile(join(first.path, "work.txt"), "an hour of agent work\n");
    const sha = await first.commitAll({ message: "WIP: the agent's work", author: BOT });
    await expect(first.push({})).rejects.toThrow(/refusing to allow/);
    await first.remove();

    // A kept commit the task did not record is stale: it is dropped, not resumed.
    const stale = await ws.createWorktree(job("job-1-other"));
    expect(stale.unpushed).toBe(false);
    await stale.remove();
    const third = await ws.createWorktree(job("job-1-third"));
    await writeFile(join(third.path, "work.txt"), "a second hour of agent work\n");
    const kept = await third.commitAll({ message: "WIP: the agent's work", author: BOT });
    await expect(third.push({})).rejects.toThrow(/refusing to allow/);
    await third.remove();

    const retry = await ws.createWorktree({ ...job("job-1-retry"), resumeFrom: kept });
    expect(retry.unpushed).toBe(true);
    expect(retry.startSha).toBe(kept);
    expect(await readFile(join(retry.path, "work.txt"), "utf8")).toBe("a second hour of agent work\n");
    await rm(hook);
    expect((await retry.push({})).sha).toBe(kept);
    expect(await git(root, "--git-dir=remote.git", "rev-parse", "agent/eng-42")).toBe(kept);
    await retry.remove();

    // Once pushed, nothing is kept: the next job starts from the remote branch as usual.
    const next = await ws.createWorktree({ ...job("job-2"), resumeFrom: kept });
    expect(next.unpushed).toBe(false);
    expect(next.startSha).toBe(kept);
    // The retry resumed the commit the task recorded, not the stale one kept before it.
    expect(sha).not.toBe(kept);
  });

  it("checks out agent/eng-42 from main, commits as the bot and pushes", async () => {
    const main = await git(root, "--git-dir=remote.git", "rev-parse", "main");
    const wt = await ws.createWorktree(job("job-1", branchForIssue("ENG-42")));
    expect(wt).toMatchObject({ branch: "agent/eng-42", baseBranch: "main", resumed: false, startSha: main });
    expect(wt.path).toBe(join(dataDir, "worktrees", "job-1"));
    expect(await git(wt.path, "rev-parse", "--abbrev-ref", "HEAD")).toBe("agent/eng-42");
    expect(await wt.commitAll({ message: "nothing", author: BOT })).toBeNull();

    await writeFile(join(wt.path, "feature.txt"), "hello\n");
    expect(await wt.isDirty()).toBe(true);
    const sha = await wt.commitAll({ message: "Add feature", author: BOT });
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await wt.isDirty()).toBe(false);
    expect(await wt.changedFiles()).toEqual(["feature.txt"]);
    expect(await wt.commitsAhead()).toEqual([{ sha, subject: "Add feature" }]);
    expect(await wt.diffAgainstBase()).toContain("+hello");
    const capped = await wt.diffAgainstBase({ maxChars: 60 });
    expect(capped.length).toBeLessThanOrEqual(60);
    expect(capped).toContain("[diff truncated]");

    expect(await wt.push({})).toEqual({ sha, pushed: true });
    const log = await git(
      root,
      "--git-dir=remote.git",
      "log",
      "-1",
      "--format=%H|%an <%ae>|%s",
      "agent/eng-42",
    );
    expect(log).toBe(`${sha}|Agent Bot <bot@agents.example>|Add feature`);
    expect(await wt.push({})).toEqual({ sha, pushed: false });
  });

  it("resumes a retried job from the pushed branch", async () => {
    const wt = await ws.createWorktree(job("job-1"));
    await writeFile(join(wt.path, "feature.txt"), "v1\n");
    const sha = await wt.commitAll({ message: "v1", author: BOT });
    await wt.push({});
    await wt.remove();

    const retry = await ws.createWorktree(job("job-1-retry"));
    expect(retry).toMatchObject({ resumed: true, startSha: sha });
    expect(await git(retry.path, "rev-parse", "HEAD")).toBe(sha);
    expect(await readFile(join(retry.path, "feature.txt"), "utf8")).toBe("v1\n");
  });

  it("merges a human's commit on the branch instead of dropping it, and refuses conflicting edits", async () => {
    const wt = await ws.createWorktree(job("job-1"));
    await writeFile(join(wt.path, "feature.txt"), "v1\n");
    await wt.commitAll({ message: "v1", author: BOT });
    await wt.push({});
    const human = await humanPush("agent/eng-42", "human.txt", "from a reviewer\n");

    await writeFile(join(wt.path, "feature.txt"), "v2\n");
    const ours = await wt.commitAll({ message: "v2", author: BOT });
    const result = await wt.push({});
    expect(result.pushed).toBe(true);
    const remoteHead = await git(root, "--git-dir=remote.git", "rev-parse", "agent/eng-42");
    expect(remoteHead).toBe(result.sha);
    for (const ancestor of [human, ours!]) {
      await git(root, "--git-dir=remote.git", "merge-base", "--is-ancestor", ancestor, remoteHead);
    }
    expect(await git(root, "--git-dir=remote.git", "log", "-1", "--format=%an|%s", remoteHead)).toBe(
      "Agent Bot|Merge remote-tracking branch 'origin/agent/eng-42' into agent/eng-42",
    );

    await humanPush("agent/eng-42", "feature.txt", "human version\n");
    await writeFile(join(wt.path, "feature.txt"), "agent version\n");
    await wt.commitAll({ message: "v3", author: BOT });
    await expect(wt.push({})).rejects.toThrow(/conflict with the agent's changes in feature\.txt/);
    expect(await wt.isDirty()).toBe(false);
    await expect(stat(join(mirror(), "worktrees", "job-1", "MERGE_HEAD"))).rejects.toThrow();
  });

  it("keeps the token out of files, logs, the base env and error messages, but sends it as a header", async () => {
    const envBefore = { ...env };
    const wt = await ws.createWorktree(job("job-1", "agent/eng-42", TOKEN));
    await writeFile(join(wt.path, "feature.txt"), "hello\n");
    await wt.commitAll({ message: "feature", author: BOT });
    await wt.push({ token: TOKEN });
    expect(env).toEqual(envBefore);

    const files = await filesUnder(dataDir);
    expect(files).toContain(join(mirror(), "config"));
    expect(files).toContain(join(wt.path, ".git"));
    for (const file of files) {
      const content = await readFile(file, "latin1");
      for (const secret of SECRETS) expect(content.includes(secret), `${secret} in ${file}`).toBe(false);
    }
    for (const secret of SECRETS) expect(logs.join("\n")).not.toContain(secret);

    const badPush = runGit(["push", `file://${join(root, "missing.git")}`, "HEAD:refs/heads/x"], {
      cwd: wt.path,
      baseEnv: env,
      token: TOKEN,
    });
    await expect(badPush).rejects.toThrow(/missing\.git/);
    const echoed = await runGit(["checkout", TOKEN], { cwd: wt.path, baseEnv: env, token: TOKEN }).catch(
      (err: unknown) => err as Error,
    );
    expect(echoed).toBeInstanceOf(Error);
    expect(String((echoed as Error).message)).toContain("[redacted]");
    for (const err of [await badPush.catch((e: unknown) => e), echoed]) {
      for (const secret of SECRETS) expect(inspect(err, { depth: 10 })).not.toContain(secret);
    }
  });

  it("does not let the agent push through origin, while our push works", async () => {
    const wt = await ws.createWorktree(job("job-1"));
    await writeFile(join(wt.path, "feature.txt"), "hello\n");
    await git(wt.path, "add", "-A");
    await git(wt.path, ...HUMAN, "commit", "--quiet", "-m", "agent's own commit");
    await expect(git(wt.path, "push", "origin", "HEAD:refs/heads/agent/eng-42")).rejects.toThrow(
      /agent-workforce-no-push/,
    );
    await expect(
      git(root, "--git-dir=remote.git", "rev-parse", "--verify", "agent/eng-42"),
    ).rejects.toThrow();
    const { sha, pushed } = await wt.push({});
    expect(pushed).toBe(true);
    expect(await git(root, "--git-dir=remote.git", "rev-parse", "agent/eng-42")).toBe(sha);
  });

  it("removes worktrees idempotently and serialises concurrent jobs onto one clone", async () => {
    const [a, b] = await Promise.all([
      ws.createWorktree(job("job-a", "agent/eng-1")),
      ws.createWorktree(job("job-b", "agent/eng-2")),
    ]);
    expect(cloneCount()).toBe(1);
    expect(await ws.listWorktrees()).toEqual([a.path, b.path]);
    await a.remove();
    await a.remove();
    await expect(stat(a.path)).rejects.toThrow();
    const listed = await git(mirror(), "worktree", "list", "--porcelain");
    expect(listed).not.toContain(a.path);
    expect(listed).toContain(b.path);
    expect(await ws.listWorktrees()).toEqual([b.path]);
    await rm(b.path, { recursive: true });
    await expect(b.remove()).resolves.toBeUndefined();
  });

  it("recovers from crash leftovers: stale directory, orphaned worktree and a dead holder's lock", async () => {
    await ws.ensureMirror({ repo, cloneUrl });
    const main = await git(mirror(), "rev-parse", "refs/remotes/origin/main");
    const orphan = join(dataDir, "worktrees", "crashed-job");
    await git(mirror(), "worktree", "add", "--quiet", "-B", "agent/eng-42", orphan, main);
    await mkdir(join(dataDir, "worktrees", "job-1"), { recursive: true });
    await writeFile(join(dataDir, "worktrees", "job-1", "junk.txt"), "left over");
    await writeFile(`${mirror()}.lock`, JSON.stringify({ id: "old", pid: 2 ** 22 + 7, host: hostname() }));

    const wt = await ws.createWorktree(job("job-1"));
    expect(await wt.isDirty()).toBe(false);
    await expect(stat(orphan)).rejects.toThrow();
    await expect(stat(`${mirror()}.lock`)).rejects.toThrow();
    expect(logs.some((l) => l.includes("breaking stale workspace lock"))).toBe(true);
  });

  it("re-clones, in the same call, a mirror that broke after this process fetched it", async () => {
    await (await ws.createWorktree(job("job-1"))).remove();
    // What a disk error or a stray hand leaves: the mirror's HEAD no longer names anything.
    await writeFile(join(mirror(), "HEAD"), "garbage\n");
    const wt = await ws.createWorktree(job("job-2", "agent/eng-43"));
    expect(await wt.isDirty()).toBe(false);
    expect(cloneCount()).toBe(2);
    expect(logs.some((l) => l.includes("replacing a directory that is not a valid bare mirror"))).toBe(true);
  });

  it("validates inputs and derives branch names", async () => {
    expect(branchForIssue("ENG-42")).toBe("agent/eng-42");
    expect(branchForIssue(" Team Foo/12 ")).toBe("agent/team-foo-12");
    expect(() => branchForIssue("--")).toThrow(/branch name/);
    const withCreds = `https://x-access-token:${TOKEN}@github.com/acme/widgets.git`;
    const err = await ws.createWorktree({ ...job("j"), cloneUrl: withCreds }).catch((e: Error) => e);
    expect(String(err)).toMatch(/contains credentials/);
    expect(String(err)).not.toContain(TOKEN);
    await expect(ws.createWorktree({ ...job("j"), repo: { owner: "..", name: "x" } })).rejects.toThrow(
      /owner/,
    );
    await expect(ws.createWorktree(job("j", "-f"))).rejects.toThrow(/agent branch/);
  });
});

describe("runGit against an HTTP remote", () => {
  let server: Server;
  let base: string;
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(String(req.headers.authorization));
      if (req.url?.startsWith("/hang")) return;
      res.statusCode = 403;
      res.end("forbidden");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("authenticates with a per-command Basic header and scrubs failures", async () => {
    const err = await runGit(["ls-remote", `${base}/acme/widgets.git`], { baseEnv: env, token: TOKEN }).catch(
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(seen).toContain(`Basic ${SECRETS[1]}`);
    for (const secret of SECRETS) expect(inspect(err, { depth: 10 })).not.toContain(secret);
  });

  it("sends the token only to the clone URL's host, even when config rewrites the URL", async () => {
    const evilSeen: string[] = [];
    const evil = createServer((req, res) => {
      evilSeen.push(String(req.headers.authorization));
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
    const evilPort = (evil.address() as { port: number }).port;
    const remote = { repo, cloneUrl: `${base}/acme/widgets.git`, token: TOKEN };
    try {
      seen.length = 0;
      await expect(ws.ensureMirror(remote)).rejects.toThrow(/token has read access/);
      expect(seen).toContain(`Basic ${SECRETS[1]}`);
      // Global config (which the agent, as the same user, could write) is not read at all...
      const rewrite = `url.http://127.0.0.1:${evilPort}/.insteadOf`;
      await git(root, "config", "--global", rewrite, `${base}/`);
      seen.length = 0;
      await expect(ws.ensureMirror(remote)).rejects.toThrow(/token has read access/);
      expect(seen).toContain(`Basic ${SECRETS[1]}`);
      expect(evilSeen).toEqual([]);
      // ...and a rewrite that does apply still does not take the header along.
      const call = { baseEnv: env, token: TOKEN, tokenUrl: remote.cloneUrl };
      await expect(runGit(["-c", `${rewrite}=${base}/`, "ls-remote", remote.cloneUrl], call)).rejects.toThrow();
      expect(evilSeen.length).toBeGreaterThan(0);
      expect(evilSeen.join()).not.toContain("Basic");
    } finally {
      evil.close();
    }
  });

  it("one job's abort while it shares a fetch leaves the other job's worktree whole", async () => {
    const stop = new AbortController();
    const aborted = ws.createWorktree({ ...job("job-a", "agent/eng-1"), signal: stop.signal });
    const other = ws.createWorktree(job("job-b", "agent/eng-2"));
    stop.abort(new Error("job cancelled"));
    await expect(aborted).rejects.toMatchObject({ name: "AbortError" });
    const wt = await other;
    expect(await readFile(join(wt.path, "README.md"), "utf8")).toBe("# widgets\n\nline one\n");
    expect(await git(wt.path, "status", "--porcelain")).toBe("");
    expect(await ws.listWorktrees()).toEqual([wt.path]);
    await wt.remove();
  });

  it("twelve jobs at once, from two Workspace instances on one data directory, each get a whole tree of their own branch", async () => {
    const logger = pino({ level: "debug" }, { write: (line: string) => void logs.push(line) });
    const other = new Workspace({ dataDir, baseEnv: env, parkSettleMs: 0, logger });
    const jobs = Array.from({ length: 12 }, (_, i) => (i % 2 ? ws : other).createWorktree(job(`many-${i}`, `agent/eng-${100 + i}`)));
    const trees = await Promise.all(jobs);
    expect(cloneCount()).toBe(1);
    for (const [i, wt] of trees.entries()) {
      expect(await git(wt.path, "rev-parse", "--abbrev-ref", "HEAD")).toBe(`agent/eng-${100 + i}`);
      expect(await git(wt.path, "status", "--porcelain", "--ignored")).toBe("");
    }
    await Promise.all(trees.map((wt) => wt.remove()));
    // And again, now taking the parked trees, at once.
    const again = await Promise.all(Array.from({ length: 6 }, (_, i) => other.createWorktree(job(`again-${i}`, `agent/eng-${200 + i}`))));
    for (const wt of again) expect(await git(wt.path, "status", "--porcelain", "--ignored")).toBe("");
    await Promise.all(again.map((wt) => wt.remove()));
    expect(await ws.listWorktrees()).toEqual([]);
  });

  it("rejects promptly when aborted or timed out", async () => {
    await expect(ws.createWorktree({ ...job("j"), signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: "AbortError",
    });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    await expect(
      runGit(["ls-remote", `${base}/hang/repo.git`], { baseEnv: env, signal: controller.signal }),
    ).rejects.toMatchObject({ name: "AbortError" });
    await expect(
      runGit(["ls-remote", `${base}/hang/again.git`], { baseEnv: env, timeoutMs: 300 }),
    ).rejects.toThrow(/timed out/);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
