// Everything the workload bench runs against: a private redis-server (so INFO commandstats counts
// only this service), the loopback fakes (Linear, GitHub, and one Anthropic endpoint per worker so
// each agent's worker is known), four bare git remotes routed by team, and the service itself as
// separate processes: one server and `workers` worker processes.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { type AnthropicFake, startAnthropicFake } from "../../test/fakes/anthropic/index.js";
import { type GitHubFake, startGitHubFake } from "../../test/fakes/github/index.js";
import type { FakeIssueLabel, FakeTeam, LinearFake } from "../../test/fakes/linear/index.js";
import { startLinearFake } from "../../test/fakes/linear/index.js";
import { GITHUB_SECRET, LINEAR_SECRET } from "../../test/helpers/config.js";
import { type OwnRedis, startOwnRedis } from "../../test/helpers/redis-server.js";
import type { ScriptedModel } from "./model.js";
import { type ServiceProcess, startServiceProcess } from "./processes.js";

const exec = promisify(execFile);
export const OWNER = "acme";
const REPOS = [
  { name: "alpha", team: "WA" },
  { name: "beta", team: "WB" },
  { name: "gamma", team: "WC" },
  { name: "delta", team: "WD" },
] as const;

/** One repository: its bare remote and the Linear team routed to it. */
export interface StackRepo {
  name: string;
  url: string;
  team: FakeTeam;
}

export interface StackOptions {
  workers: number;
  concurrency: number;
  /** Files in each repository (spread over `commits` commits). */
  repoFiles: number;
  commits: number;
  logLevel: string;
}

/** The running stack. */
export interface Stack {
  redis: OwnRedis;
  prefix: string;
  linear: LinearFake;
  github: GitHubFake;
  models: AnthropicFake[];
  repos: StackRepo[];
  agentLabel: FakeIssueLabel;
  server: ServiceProcess;
  workers: ServiceProcess[];
  /** What the service processes wrote to stdout (their logs). */
  output: string[];
  env: Record<string, string>;
  close(): Promise<void>;
}

/** A deterministic module of about 2 KB, as a real source file. */
function moduleText(dir: string, n: number): string {
  const lines = [`// ${dir} module ${n}.`];
  for (let i = 0; lines.join("\n").length < 2000; i++)
    lines.push(`export function ${dir}${n}Step${i}(input) {\n  // Keeps the ${dir} state consistent for step ${i}.\n  return { ...input, step: ${i} };\n}`);
  return `${lines.join("\n")}\n`;
}

/** A bare remote of `files` modules under src/ built in `commits` commits, plus README, greet.txt and check.sh. */
async function createRepo(root: string, name: string, files: number, commits: number): Promise<string> {
  const bare = path.join(root, `${name}.git`);
  const seed = path.join(root, `${name}-seed`);
  const git = (...args: string[]) => exec("git", ["-c", "user.name=Bench", "-c", "user.email=bench@example.com", ...args], { cwd: seed });
  await exec("git", ["init", "--bare", "-q", "-b", "main", bare]);
  await mkdir(seed, { recursive: true });
  await git("init", "-q", "-b", "main");
  await writeFile(path.join(seed, "README.md"), `# ${name}\n\nRun the checks with \`sh check.sh\`.\n`);
  await writeFile(path.join(seed, "greet.txt"), "hello\n");
  await writeFile(path.join(seed, "check.sh"), "#!/bin/sh\n# The project's checks: greet.txt must say hello.\ngrep -q hello greet.txt\n");
  const dirs = ["core", "api", "store", "cli"];
  const perCommit = Math.ceil(files / Math.max(1, commits));
  for (let c = 0, written = 0; c < Math.max(1, commits); c++) {
    for (let i = 0; i < perCommit && written < files; i++, written++) {
      const dir = dirs[written % dirs.length] as string;
      await mkdir(path.join(seed, "src", dir), { recursive: true });
      await writeFile(path.join(seed, "src", dir, `m${Math.floor(written / dirs.length) + 1}.js`), moduleText(dir, written));
    }
    await git("add", "-A");
    await git("commit", "-q", "--allow-empty", "-m", `commit ${c + 1}`);
  }
  await git("push", "-q", bare, "main");
  await rm(seed, { recursive: true, force: true });
  return `file://${bare}`;
}

/** Starts Redis, the fakes, the remotes and the service's processes; `model` answers every agent. */
export async function startStack(o: StackOptions, model: ScriptedModel): Promise<Stack> {
  const root = await mkdtemp(path.join(tmpdir(), "awf-workload-"));
  const dataDir = path.join(root, "data");
  const redis = await startOwnRedis();
  const [github, linear, ...models] = await Promise.all([
    startGitHubFake({ token: `ghp_${randomUUID().replace(/-/g, "")}` }),
    startLinearFake({ apiKey: `lin_api_${randomUUID().replace(/-/g, "")}` }),
    ...Array.from({ length: o.workers }, (_, i) => startAnthropicFake({ apiKey: `sk-ant-bench`, minCacheableTokens: 200, intercept: model.endpoint(i) })),
  ]);
  // The service paces to GitHub's own x-ratelimit-limit: the bench counts requests, it does not throttle them.
  github.setRateLimit({ limit: 1_000_000_000, windowMs: 3_600_000 });
  const agentLabel = linear.store.seedLabel({ name: "agent" });
  const repos: StackRepo[] = [];
  for (const r of REPOS) {
    const url = await createRepo(root, r.name, o.repoFiles, o.commits);
    github.addRepo({ owner: OWNER, name: r.name, cloneUrl: url, defaultBranch: "main" });
    repos.push({ name: r.name, url, team: linear.store.seedTeam({ key: r.team, name: `Team ${r.name}` }) });
  }
  const slots = o.workers * o.concurrency;
  const routing = {
    repos: Object.fromEntries(repos.map((r) => [`${OWNER}/${r.name}`, { checkCommand: "sh check.sh", maxAgents: slots }])),
    routes: repos.map((r) => ({ team: r.team.key, repo: `${OWNER}/${r.name}` })),
  };
  const routingFile = path.join(root, "routing.json");
  await writeFile(routingFile, JSON.stringify(routing));
  const prefix = `awf-bench-workload-${randomUUID().slice(0, 8)}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    REDIS_URL: redis.url,
    REDIS_PREFIX: prefix,
    PORT: "0",
    HOST: "127.0.0.1",
    GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
    LINEAR_WEBHOOK_SECRET: LINEAR_SECRET,
    GITHUB_TOKEN: github.token,
    GITHUB_API_URL: github.url,
    LINEAR_API_KEY: linear.apiKey,
    LINEAR_API_URL: linear.url,
    ANTHROPIC_API_KEY: "sk-ant-bench",
    DATA_DIR: dataDir,
    LOG_LEVEL: o.logLevel,
    AGENT_MODEL: "claude-sonnet-4-6",
    AGENT_CONCURRENCY: String(o.concurrency),
    AGENT_TRIAGE: "off",
    AGENT_WORKFORCE_CONFIG: routingFile,
    // Request budgets and write spacing are rates of the real services; this bench counts
    // requests instead (the fakes have no limits to respect), so the budgets never bind here.
    GITHUB_WRITE_SPACING_MS: "0",
    GITHUB_REQUESTS_PER_HOUR: "100000000",
    LINEAR_REQUESTS_PER_HOUR: "100000000",
    LINEAR_REQUEST_BURST: "100000",
    // A start-up sweep would race the bench's own labels; its cost is per interval, not per task.
    RECONCILE_INTERVAL_MS: "0",
  };
  const output: string[] = [];
  const server = await startServiceProcess("server", { ...env, ANTHROPIC_BASE_URL: (models[0] as AnthropicFake).url }, output);
  const workers: ServiceProcess[] = [];
  for (let i = 0; i < o.workers; i++) workers.push(await startServiceProcess("worker", { ...env, ANTHROPIC_BASE_URL: (models[i] as AnthropicFake).url }, output));
  return {
    redis, prefix, linear, github, models, repos, agentLabel, server, workers, output, env,
    async close() {
      await Promise.all([server, ...workers].map((p) => p.close().catch(() => undefined)));
      await Promise.all([github.close(), linear.close(), ...models.map((m) => m.close())]);
      await redis.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
