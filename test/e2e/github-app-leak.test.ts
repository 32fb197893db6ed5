import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { bash, create, say } from "../helpers/turns.js";
import { REDIS_URL } from "../helpers/redis.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";
import { appKeyPair, pemBodyLines } from "../helpers/world-app.js";

const run = promisify(execFile);

let world: World | undefined;
let keyDir: string | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
  keyDir = undefined;
});

/** Every file under `dir`, recursively. */
async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await allFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** The text of every file under `dir`, plus every git object (compressed on disk) of each repository there. */
async function everythingUnder(dir: string): Promise<Array<{ where: string; text: string }>> {
  const files = await allFiles(dir);
  const out = await Promise.all(files.map(async (f) => ({ where: f, text: (await readFile(f)).toString("latin1") })));
  const gitDirs = [...new Set(files.filter((f) => path.basename(f) === "HEAD").map((f) => path.dirname(f)))];
  for (const gitDir of gitDirs) {
    const isRepo = await stat(path.join(gitDir, "objects")).then((s) => s.isDirectory(), () => false);
    if (!isRepo) continue;
    const { stdout } = await run("git", ["--git-dir", gitDir, "cat-file", "--batch-all-objects", "--batch"], {
      maxBuffer: 256 * 1024 * 1024,
      encoding: "latin1",
    });
    out.push({ where: `${gitDir} (objects)`, text: stdout });
  }
  return out;
}

/** Every key and value under the world's Redis prefix, whatever its type. */
async function redisDump(prefix: string): Promise<Array<{ where: string; text: string }>> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const keys = await redis.keys(`${prefix}*`);
    const out: Array<{ where: string; text: string }> = [];
    for (const key of keys) {
      const type = await redis.type(key);
      let value: unknown;
      if (type === "string") value = await redis.getBuffer(key).then((b) => b?.toString("latin1"));
      else if (type === "hash") value = await redis.hgetall(key);
      else if (type === "list") value = await redis.lrange(key, 0, -1);
      else if (type === "set") value = await redis.smembers(key);
      else if (type === "zset") value = await redis.call("ZRANGE", key, "0", "-1", "WITHSCORES");
      else if (type === "stream") value = await redis.xrange(key, "-", "+");
      out.push({ where: `redis ${type} ${key}`, text: `${key}\n${JSON.stringify(value)}` });
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

/** The text of every Anthropic request the service made: system prompt, tool results, everything the model saw. */
function modelInputs(w: World): Array<{ where: string; text: string }> {
  return w.anthropic.requests.map((r, i) => ({ where: `anthropic request ${i}`, text: JSON.stringify(r.body) }));
}

/** Text of every tool_result in the last model request (it carries the whole conversation). */
function toolResults(w: World): string[] {
  const messages = (w.anthropic.requests.at(-1)?.body.messages ?? []) as Array<{ role: string; content: unknown }>;
  return messages
    .filter((m) => m.role === "user" && Array.isArray(m.content))
    .flatMap((m) => (m.content as Array<{ type: string; content?: unknown }>).filter((b) => b.type === "tool_result"))
    .map((b) => (typeof b.content === "string" ? b.content : JSON.stringify(b.content)));
}

describe("running as a GitHub App, no secret leaks", () => {
  it("keeps installation tokens, JWTs and the private key out of the agent's reach, logs, Redis, DATA_DIR and git", async () => {
    // The key comes from a file, as operators mount it; the agent learns its path and tries it.
    keyDir = await mkdtemp(path.join(tmpdir(), "awf-app-key-"));
    const keyFile = path.join(keyDir, "app.pem");
    await writeFile(keyFile, appKeyPair().privateKey, { mode: 0o600 });
    world = await startWorld({ githubApp: true, env: { GITHUB_APP_PRIVATE_KEY: "", GITHUB_APP_PRIVATE_KEY_FILE: keyFile } });
    const w = world;
    const app = w.githubApp!;
    const issue = w.newIssue();
    w.anthropic.script([
      bash("env; echo ---; cat .git/config 2>&1; echo ---; git config --list --show-origin 2>&1; echo ---; cat ~/.gitconfig 2>&1"),
      bash(`cat ${keyFile} 2>&1; ls -la ${keyDir} 2>&1; cat /proc/1/environ 2>&1 | tr '\\0' '\\n'`),
      bash("git remote -v 2>&1; git ls-remote origin 2>&1 | head -3"),
      create("greet.txt", "hello, world\n"),
      say("## Summary\nGreeting updated."),
    ]);
    const res = await w.labelIssue(issue);
    expect(await w.waitForJob(res.body.jobId as string, "implement", 30_000)).toBe("completed");

    // Positive signals first: the agent's commands ran, the service used the App's credentials.
    const results = toolResults(w);
    expect(results[0]).toContain("PATH=");
    expect(results[0]).toContain("---");
    const tokens = [...w.github.state.installationTokens.keys()];
    expect(tokens.length).toBeGreaterThan(0);
    expect(w.github.state.appJwts.size).toBeGreaterThan(0);
    const pushes = w.github.gitRequests.filter((g) => g.service === "git-receive-pack" && g.status === 200);
    expect(pushes.length).toBeGreaterThan(0);
    expect(pushes.every((g) => g.token !== null && tokens.includes(g.token))).toBe(true);
    const [pr] = (await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO })).data;
    expect(pr?.user?.login).toBe(app.botLogin);

    const secrets = w.secrets;
    for (const t of tokens) expect(secrets).toContain(t);
    for (const line of pemBodyLines(app.privateKey)) expect(secrets).toContain(line);
    const places = [
      ...results.map((text, i) => ({ where: `tool result ${i}`, text })),
      ...modelInputs(w),
      { where: "logs", text: w.logs.join("\n") },
      ...(await redisDump(w.env.REDIS_PREFIX as string)),
      ...(await everythingUnder(w.dataDir)),
      // What the service pushed reaches GitHub, and everyone who can read the repository.
      ...(await everythingUnder(w.remote.dir)),
    ];
    const leaks = places.flatMap(({ where, text }) =>
      secrets.filter((s) => text.includes(s)).map((s) => `${where}: ${s.slice(0, 12)}…`),
    );
    expect(leaks).toEqual([]);
  });

  it("runs with GITHUB_APP_ID set to the App's client id: installation lookup, tokens and identity", async () => {
    world = await startWorld({ githubApp: { configureWith: "clientId" }, startWorkers: false });
    const w = world;
    const app = w.githubApp!;
    expect(w.env.GITHUB_APP_ID).toBe(app.clientId);
    const access = w.deps.clients!.github;
    expect(access.kind).toBe("app");
    const ref = { owner: OWNER, repo: REPO };
    const octokit = await access.forRepo(ref);
    expect((await octokit.rest.repos.get({ owner: OWNER, repo: REPO })).data.full_name).toBe(`${OWNER}/${REPO}`);
    expect(w.github.state.installationTokens.has(await access.gitToken(ref))).toBe(true);
    expect(await access.identity()).toMatchObject({ login: app.botLogin });
    // The fake took JWTs whose iss is the client id.
    const issuers = [...w.github.state.appJwts].map((jwt) => JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString()).iss);
    expect(issuers.length).toBeGreaterThan(0);
    expect(new Set(issuers)).toEqual(new Set([app.clientId]));
  });
});
