import { execFile } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startAnthropicFake } from "../../test/fakes/anthropic/index.js";
import { startGitHubFake } from "../../test/fakes/github/index.js";
import { type Config, loadConfig } from "../config.js";
import { run } from "../main.js";
import { deleteByPrefix } from "../redis.js";
import { probeBubblewrap } from "../sandbox/probe.js";
import type { Task } from "../tasks/task.js";
import { changesRequested, inlineComment, labelAdded, merged } from "./events.js";
import { startLinearStandIn } from "./linear-stand-in.js";
import { DEMO_REPO_FILES, demoAgentTurn } from "./scripted-agent.js";

const exec = promisify(execFile);
const OWNER = "acme";
const REPO = "demo-app";

/** A running demo: the real service over local stand-ins for Linear, GitHub and Anthropic. */
export interface Demo {
  url: string;
  /** Redis key prefix of this demo's data (deleted on close). */
  prefix: string;
  close(): Promise<void>;
}

/**
 * The offline demo: starts stand-ins, a sample repository and the real server and workers, then
 * plays the whole story through signed webhooks — issue labelled, agent works, PR opened, changes
 * requested, revision, merged, issue done — printing each step. Needs only Redis.
 */
export async function runDemo(p: { base: Config; say: (line: string) => void; timeoutMs?: number }): Promise<Demo> {
  const { say } = p;
  const sandbox = await demoSandbox(p.base.childEnv.PATH ?? "");
  if (sandbox.note) say(sandbox.note);
  const dir = await mkdtemp(path.join(tmpdir(), "agent-workforce-demo-"));
  const secrets = { github: hex(), linear: hex() };
  const remote = await createSampleRepo(dir);
  const github = await startGitHubFake({ token: `ghp_demo${hex()}`, botLogin: "agent-workforce[bot]" });
  github.addRepo({ owner: OWNER, name: REPO, cloneUrl: remote, defaultBranch: "main" });
  // The reviewer is a member with write access: only such people may direct the agent.
  github.addOrgMember(OWNER, "grace");
  github.setPermission(OWNER, REPO, "grace", "write");
  const anthropic = await startAnthropicFake({ apiKey: `sk-ant-demo-${hex()}` });
  anthropic.script(Array.from({ length: 500 }, () => demoAgentTurn));
  const linearKey = `lin_api_demo${hex()}`;
  const linearStandIn = await startLinearStandIn(linearKey);

  const routing = path.join(dir, "routing.json");
  await writeFile(routing, JSON.stringify({ repos: { [`${OWNER}/${REPO}`]: { checkCommand: "node test.js", maxAgents: 2 } } }));
  const config = loadConfig(
    {
      PORT: String(p.base.port),
      HOST: p.base.host,
      REDIS_URL: p.base.redisUrl,
      REDIS_PREFIX: `awf-demo-${hex().slice(0, 6)}`,
      LOG_LEVEL: p.base.logLevel === "info" ? "warn" : p.base.logLevel,
      DATA_DIR: path.join(dir, "data"),
      GITHUB_WEBHOOK_SECRET: secrets.github,
      LINEAR_WEBHOOK_SECRET: secrets.linear,
      GITHUB_TOKEN: github.token,
      GITHUB_API_URL: github.url,
      GITHUB_WRITE_SPACING_MS: "0",
      LINEAR_API_KEY: linearKey,
      LINEAR_API_URL: linearStandIn.url,
      ANTHROPIC_API_KEY: anthropic.apiKey,
      ANTHROPIC_BASE_URL: anthropic.url,
      AGENT_WORKFORCE_CONFIG: routing,
      DEFAULT_REPO: `${OWNER}/${REPO}`,
      REVISION_DEBOUNCE_MS: "1500",
      RECONCILE_INTERVAL_MS: "0",
      AGENT_TRIAGE: "off",
      AGENT_SANDBOX: sandbox.mode,
      // The demo's agent is a local script that needs no network.
      AGENT_ALLOWED_DOMAINS: "",
      PATH: p.base.childEnv.PATH,
      LANG: p.base.childEnv.LANG,
    },
    ["server", "worker"],
  );
  const running = await run(config, ["server", "worker"]);
  const base = running.address as string;
  const close = async () => {
    await running.close();
    await deleteByPrefix(config.redisUrl, config.redisPrefix).catch(() => undefined);
    await Promise.all([github.close(), anthropic.close(), linearStandIn.close()]);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + (p.timeoutMs ?? 120_000);
    const waitTask = async (issueId: string, done: (t: Task) => boolean, what: string): Promise<Task> => {
      for (;;) {
        const t = await running.deps.tasks.get(issueId);
        if (t && done(t)) return t;
        if (Date.now() > deadline) throw new Error(`the demo timed out waiting for ${what} (task: ${t?.state} ${t?.step ?? ""})`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const post = (route: string, headers: Record<string, string>, body: unknown) =>
      fetch(`${base}${route}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

    say(`agent-workforce demo: the real server, queues, workers and git, with local stand-ins for Linear, GitHub and Anthropic.`);
    say(`Dashboard: ${base.replace("0.0.0.0", "localhost")}/`);
    const issue = linearStandIn.addIssue({
      title: "Greet people by name",
      description: "`greet()` always says Hello!. It should take a name and say `Hello, <name>!`.",
    });
    const labelBody = JSON.stringify(labelAdded(issue, linearStandIn.team, linearStandIn.agentLabel));
    await fetch(`${base}/webhooks/linear`, {
      method: "POST",
      headers: { "content-type": "application/json", "linear-signature": sign(secrets.linear, labelBody) },
      body: labelBody,
    });
    say(`1. ${issue.identifier} "${issue.title}" is labelled agent in Linear → a signed webhook queues an implement job`);
    let task = await waitTask(issue.id, (t) => t.state === "working", "the agent to start");
    say(`2. a worker picked it up: Linear moved to "${linearStandIn.stateName(issue.id)}", branch ${task.branch ?? "agent/…"} in a fresh worktree`);
    task = await waitTask(issue.id, (t) => t.state === "pr-open", "the pull request");
    say(`3. the agent edited greet.js, ran \`node test.js\` and opened PR #${task.prNumber} (${task.turns} turns, $${task.costUsd.toFixed(4)}); Linear: "${linearStandIn.stateName(issue.id)}"`);

    const pr = task.prNumber as number;
    const review = github.addReview(OWNER, REPO, pr, { user: "grace", state: "CHANGES_REQUESTED", body: "Almost there." });
    const comment = github.addReviewComment(OWNER, REPO, pr, {
      user: "grace",
      body: "Please trim spaces around the name.",
      path: "greet.js",
      line: 2,
      diff_hunk: "@@ -1,3 +1,3 @@\n-export function greet() {\n-  return \"Hello!\";\n+export function greet(name = \"world\") {\n+  return `Hello, ${name}!`;",
      pull_request_review_id: review.id,
    });
    for (const [event, body] of [
      ["pull_request_review_comment", inlineComment({ owner: OWNER, repo: REPO, pr, id: comment.id, reviewId: review.id, reviewer: "grace", body: "Please trim spaces around the name.", path: "greet.js", line: 2, diffHunk: "@@ -1,3 +1,3 @@" })],
      ["pull_request_review", changesRequested({ owner: OWNER, repo: REPO, pr, reviewId: review.id, reviewer: "grace", body: "Almost there." })],
    ] as const) {
      const text = JSON.stringify(body);
      await post("/webhooks/github", { "x-github-event": event, "x-github-delivery": hex(), "x-hub-signature-256": `sha256=${createHmac("sha256", secrets.github).update(text).digest("hex")}` }, body);
    }
    say(`4. grace requests changes on PR #${pr} with an inline comment → one revision job`);
    task = await waitTask(issue.id, (t) => t.revisions >= 1 && t.state === "pr-open", "the revision");
    const replies = github.state.reviewComments.filter((c) => c.inReplyToId === comment.id).length;
    say(`5. the agent resumed on the same branch from its hand-off note, pushed a commit and answered in the thread (${replies} reply); total $${task.costUsd.toFixed(4)}`);

    github.mergePull(OWNER, REPO, pr);
    const mergedBody = merged({ owner: OWNER, repo: REPO, pr, branch: task.branch as string, by: "grace" });
    const text = JSON.stringify(mergedBody);
    await post("/webhooks/github", { "x-github-event": "pull_request", "x-github-delivery": hex(), "x-hub-signature-256": `sha256=${createHmac("sha256", secrets.github).update(text).digest("hex")}` }, mergedBody);
    task = await waitTask(issue.id, (t) => t.state === "merged", "the merge");
    say(`6. PR #${pr} merged → Linear issue ${issue.identifier} is "${linearStandIn.stateName(issue.id)}", with the PR link and the total cost in a comment`);
    say(`Done. The dashboard stays up at ${base.replace("0.0.0.0", "localhost")}/ — press Ctrl+C to stop.`);
  } catch (err) {
    await close();
    throw err;
  }
  return { url: base, prefix: config.redisPrefix, close };
}

async function createSampleRepo(dir: string): Promise<string> {
  const bare = path.join(dir, "remote", `${REPO}.git`);
  const seed = path.join(dir, "seed");
  await mkdir(seed, { recursive: true });
  await exec("git", ["init", "--bare", "-q", "-b", "main", bare]);
  await exec("git", ["init", "-q", "-b", "main", seed]);
  for (const [file, content] of Object.entries(DEMO_REPO_FILES)) await writeFile(path.join(seed, file), content);
  const id = ["-c", "user.name=Demo", "-c", "user.email=demo@example.com"];
  await exec("git", [...id, "add", "-A"], { cwd: seed });
  await exec("git", [...id, "commit", "-q", "-m", "A tiny app"], { cwd: seed });
  await exec("git", ["push", "-q", bare, "main"], { cwd: seed });
  return `file://${bare}`;
}

function hex(): string {
  return randomBytes(12).toString("hex");
}

function sign(secret: string, body: string): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

/**
 * The demo's agent is our own scripted stand-in, not a model, so where bubblewrap cannot start
 * (a laptop without it) it may run unsandboxed; the note says so first. A real worker never falls
 * back like this: it refuses to start.
 */
export async function demoSandbox(pathVar: string): Promise<{ mode: "bubblewrap" | "none"; note: string | null }> {
  try {
    await probeBubblewrap({ needSocat: false, path: pathVar, readOnly: [] });
    return { mode: "bubblewrap", note: null };
  } catch (err) {
    const why = (err as Error).message.split(", so ")[0]?.replace(/^AGENT_SANDBOX=bubblewrap: /, "") ?? "bubblewrap is unavailable";
    return {
      mode: "none",
      note: `Note: ${why}, so the demo's scripted agent runs without a sandbox (AGENT_SANDBOX=none). Real workers refuse to start without one: install bubblewrap (apt-get install bubblewrap socat ripgrep).`,
    };
  }
}
