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
import { startLinearStandIn } from "./linear-stand-in.js";
import { demoModel } from "./model.js";
import { DEMO_REPO_FILES } from "./scripted-agent.js";
import { type DemoWorld, playStories } from "./stories.js";

const exec = promisify(execFile);
const OWNER = "acme";
const REPO = "demo-app";
/** How long each model call takes in the demo: long enough that agents are seen working side by side. */
const TURN_MS = 400;

/** A running demo: the real service over local stand-ins for Linear, GitHub and Anthropic. */
export interface Demo {
  url: string;
  /** Redis key prefix of this demo's data (deleted on close). */
  prefix: string;
  close(): Promise<void>;
}

/**
 * The offline demo: starts stand-ins, a sample repository and the real server and workers, then
 * hands over three issues at once through signed webhooks — one triaged ready (PR, review,
 * revision, merge), one whose question the demo answers in Linear, one the manager splits into
 * sub-issues that run in parallel where they can and roll up into it — printing each step.
 * Needs only Redis.
 */
export async function runDemo(p: { base: Config; say: (line: string) => void; timeoutMs?: number }): Promise<Demo> {
  const { say } = p;
  const sandbox = await demoSandbox(p.base.childEnv.PATH ?? "");
  if (sandbox.note) say(sandbox.note);
  const dir = await mkdtemp(path.join(tmpdir(), "agent-workforce-demo-"));
  const secrets = { github: hex(), linear: hex() };
  const remote = await createSampleRepo(dir);
  const github = await startGitHubFake({ token: `ghp_demo${hex()}`, botLogin: "agent-workforce[bot]" });
  github.addRepo({ owner: OWNER, name: REPO, cloneUrl: remote.url, defaultBranch: "main" });
  // The reviewer is a member with write access: only such people may direct the agent.
  github.addOrgMember(OWNER, "grace");
  github.setPermission(OWNER, REPO, "grace", "write");
  const anthropic = await startAnthropicFake({ apiKey: `sk-ant-demo-${hex()}`, intercept: demoModel({ turnMs: TURN_MS }) });
  const linearKey = `lin_api_demo${hex()}`;
  const linearStandIn = await startLinearStandIn(linearKey, { onUnknown: (op) => say(`!! the demo's Linear stand-in does not implement ${op}: the service's request failed`) });

  const routing = path.join(dir, "routing.json");
  await writeFile(routing, JSON.stringify({ repos: { [`${OWNER}/${REPO}`]: { checkCommand: "node test.js", maxAgents: 4 } } }));
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
      // The stand-in has no rate limit to respect (a real API key's budget would pace the story).
      LINEAR_REQUESTS_PER_HOUR: "1000000",
      LINEAR_REQUEST_BURST: "1000",
      LINEAR_API_KEY: linearKey,
      LINEAR_API_URL: linearStandIn.url,
      ANTHROPIC_API_KEY: anthropic.apiKey,
      ANTHROPIC_BASE_URL: anthropic.url,
      AGENT_WORKFORCE_CONFIG: routing,
      DEFAULT_REPO: `${OWNER}/${REPO}`,
      REVISION_DEBOUNCE_MS: "1500",
      RECONCILE_INTERVAL_MS: "0",
      // Several agents at once: the ready issue, the clarified one and two sub-issues in parallel.
      AGENT_CONCURRENCY: "4",
      // The split story's plan waits for a person's approval, which the demo gives in Linear.
      AGENT_SPLIT_APPROVAL: "ask",
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

  let merging: Promise<void> = Promise.resolve();
  try {
    const post = (route: string, headers: Record<string, string>, body: unknown) =>
      fetch(`${base}${route}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    const world: DemoWorld = {
      tasks: running.deps.tasks,
      linear: linearStandIn,
      github,
      owner: OWNER,
      repo: REPO,
      say,
      trace: p.base.logLevel === "debug" || p.base.logLevel === "trace",
      deadline: Date.now() + (p.timeoutMs ?? 120_000),
      sendLinear: (body) => post("/webhooks/linear", { "linear-signature": sign(secrets.linear, JSON.stringify(body)) }, body),
      sendGitHub: (event, body) => post("/webhooks/github", { "x-github-event": event, "x-github-delivery": hex(), "x-hub-signature-256": `sha256=${sign(secrets.github, JSON.stringify(body))}` }, body),
      // One merge at a time: they share the clone, as merges to one branch queue on GitHub.
      mergeBranch: (branch) => (merging = merging.catch(() => undefined).then(() => mergeIntoMain(remote.seed, branch))),
    };
    say(`agent-workforce demo: the real server, queues, workers and git, with local stand-ins for Linear, GitHub and Anthropic.`);
    say(`Dashboard: ${base.replace("0.0.0.0", "localhost")}/`);
    await playStories(world);
    say(`Done. The dashboard stays up at ${base.replace("0.0.0.0", "localhost")}/ — press Ctrl+C to stop.`);
  } catch (err) {
    await close();
    throw err;
  }
  return { url: base, prefix: config.redisPrefix, close };
}

/** A bare remote with the sample app, and a clone of it where the demo merges pull requests for real. */
async function createSampleRepo(dir: string): Promise<{ url: string; seed: string }> {
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
  await exec("git", ["remote", "add", "origin", bare], { cwd: seed });
  return { url: `file://${bare}`, seed };
}

/** Merges a pull request's branch into main on the remote, as GitHub's merge button would. */
async function mergeIntoMain(seed: string, branch: string): Promise<void> {
  const id = ["-c", "user.name=Grace (demo)", "-c", "user.email=grace@example.com"];
  await exec("git", ["fetch", "-q", "origin", "main", branch], { cwd: seed });
  await exec("git", ["reset", "-q", "--hard", "origin/main"], { cwd: seed });
  await exec("git", [...id, "merge", "-q", "--no-ff", "--no-edit", `origin/${branch}`], { cwd: seed });
  await exec("git", ["push", "-q", "origin", "main"], { cwd: seed });
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
