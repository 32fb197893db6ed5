import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createAnthropic } from "../agent/anthropic-client.js";
import { CLAUDE_AGENT_SDK_VERSION, loadClaudeCode } from "../agent/claude-code/load-sdk.js";
import { probeBubblewrap } from "../sandbox/probe.js";
import { pathDirs } from "../sandbox/sandbox.js";
import { type Config, ConfigError, type Role } from "../config.js";
import { createOctokit } from "../github/octokit.js";
import { githubAppChecks } from "./doctor-app.js";
import { createLinearClient } from "../linear/client.js";
import { linearAppChecks } from "../linear/oauth/doctor-checks.js";
import { createLogger } from "../logger.js";
import { createRedis, pingWithin, redactUrl } from "../redis.js";
import { evictionPolicy } from "../redis-policy.js";
import { loadRouting } from "../routing/routing-config.js";

type Check = { ok: boolean; name: string; detail: string };

/** `agent-workforce doctor`: checks every setting and connection and says what to fix. Returns the exit code. */
export async function doctor(load: (roles?: Role[]) => Config, out: (line: string) => void): Promise<number> {
  const checks: Check[] = [];
  const add = (ok: boolean, name: string, detail: string) => checks.push({ ok, name, detail });
  let config;
  try {
    config = load(["server", "worker"]);
    add(true, "configuration", "every required variable is set and valid");
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) add(false, "configuration", problem);
    try {
      config = load([]);
    } catch {
      print(checks, out);
      return 1;
    }
  }
  const silent = createLogger({ level: "silent" });

  const redis = createRedis(config.redisUrl, "producer", { lazyConnect: false });
  redis.on("error", () => undefined);
  try {
    await new Promise((r) => setTimeout(r, 300));
    await pingWithin(redis, 2_000);
    const policy = await evictionPolicy(redis);
    add(policy === "noeviction" || policy === null, "redis", `${redactUrl(config.redisUrl)} answers; maxmemory-policy ${policy ?? "unknown"}${policy && policy !== "noeviction" ? " — set it to noeviction" : ""}`);
  } catch (err) {
    add(false, "redis", `${redactUrl(config.redisUrl)}: ${(err as Error).message} — start Redis or set REDIS_URL`);
  } finally {
    redis.disconnect();
  }

  if (config.github.token) {
    try {
      const octokit = createOctokit({ token: config.github.token, baseUrl: config.github.apiUrl, logger: silent, maxRetries: 0 });
      const res = await octokit.rest.users.getAuthenticated();
      const scopes = res.headers["x-oauth-scopes"];
      add(true, "github token", `authenticated as ${res.data.login}${scopes !== undefined ? `; scopes: ${scopes || "(fine-grained token)"}` : ""}`);
      if (typeof scopes === "string" && scopes && !/\brepo\b/.test(scopes)) add(false, "github token", "classic token lacks the repo scope");
    } catch (err) {
      add(false, "github token", `${config.github.apiUrl}: ${(err as Error).message} — check GITHUB_TOKEN and GITHUB_API_URL`);
    }
  }
  const routed = await routingCheck(config, add);
  for (const c of await githubAppChecks(config, routed)) add(c.ok, c.name, c.detail);
  if (config.linear.app) for (const c of await linearAppChecks(config)) add(c.ok, c.name, c.detail);
  else if (config.linear.apiKey) add(true, "linear mode", "API key (LINEAR_API_KEY): Linear calls act as the key's user");
  if (config.linear.apiKey && !config.linear.app) {
    try {
      const res = await createLinearClient({ apiKey: config.linear.apiKey, apiUrl: config.linear.apiUrl }).client.rawRequest<
        { viewer: { name: string } },
        Record<string, never>
      >("query DoctorViewer { viewer { name } }", {});
      add(true, "linear key", `authenticated as ${res.data?.viewer.name}`);
    } catch (err) {
      add(false, "linear key", `${config.linear.apiUrl}: ${(err as Error).message} — check LINEAR_API_KEY and LINEAR_API_URL`);
    }
  }
  if (config.anthropic.apiKey) {
    try {
      const page = await createAnthropic({ apiKey: config.anthropic.apiKey, baseUrl: config.anthropic.baseUrl, maxRetries: 0 }).models.list({ limit: 20 });
      const ids = page.data.map((m) => m.id);
      add(true, "anthropic key", `accepted; AGENT_MODEL ${config.agent.model}${ids.length && !ids.includes(config.agent.model) ? " (not in the first models listed; check the name)" : ""}`);
    } catch (err) {
      add(false, "anthropic key", `${(err as Error).message} — check ANTHROPIC_API_KEY`);
    }
  }
  add(Boolean(config.github.webhookSecret), "github webhook secret", config.github.webhookSecret ? "set" : "GITHUB_WEBHOOK_SECRET is not set");
  add(Boolean(config.linear.webhookSecret), "linear webhook secret", config.linear.webhookSecret ? "set" : "LINEAR_WEBHOOK_SECRET is not set");
  try {
    const { stdout } = await promisify(execFile)("git", ["--version"], { env: { ...config.childEnv } });
    add(true, "git", stdout.trim());
  } catch {
    add(false, "git", "git is not on PATH; install git");
  }
  add(...(await sandboxCheck(config)));
  add(...(await runtimeCheck(config)));
  print(checks, out);
  return checks.every((c) => c.ok) ? 0 : 1;
}

/** Checks the routing file and returns every repository it names (checked against the App's installations). */
async function routingCheck(config: Config, add: (ok: boolean, name: string, detail: string) => void): Promise<string[]> {
  try {
    const routing = await loadRouting(config.routing.configFile, config.routing.defaultRepo, { model: config.agent.model, maxTokens: config.agent.maxTokens });
    const n = Object.keys(routing.repos).length + routing.routes.length;
    add(Boolean(routing.defaultRepo || n), "routing", routing.defaultRepo || n ? `${routing.routes.length} routes, ${Object.keys(routing.repos).length} repositories, default ${routing.defaultRepo ?? "none"}` : "no DEFAULT_REPO and no routing file: every issue would be refused");
    const names = [routing.defaultRepo, ...routing.routes.map((r) => r.repo), ...Object.keys(routing.repos)];
    return [...new Set(names.filter((r): r is string => Boolean(r)).map((r) => r.toLowerCase()))];
  } catch (err) {
    add(false, "routing", (err as Error).message);
    return [];
  }
}

async function sandboxCheck(config: Config): Promise<[boolean, string, string]> {
  if (config.agent.sandbox === "none") return [true, "agent sandbox", "AGENT_SANDBOX=none: agents run WITHOUT isolation"];
  const domains = config.agent.allowedDomains;
  try {
    const path = config.childEnv.PATH ?? "";
    await probeBubblewrap({ needSocat: domains.length > 0, path, readOnly: pathDirs(path, [config.dataDir, process.cwd()]) });
    return [true, "agent sandbox", `bubblewrap; network: ${domains.length ? domains.join(", ") : "none"}`];
  } catch (err) {
    return [false, "agent sandbox", (err as Error).message];
  }
}

/** AGENT_RUNTIME: the built-in loop, or Claude Code with its optional SDK installed and its binary answering. */
async function runtimeCheck(config: Config): Promise<[boolean, string, string]> {
  if (config.agent.runtime === "anthropic") return [true, "agent runtime", "anthropic (the built-in tool loop)"];
  try {
    const { executable } = await loadClaudeCode();
    const { stdout } = await promisify(execFile)(executable, ["--version"], { env: { PATH: config.childEnv.PATH ?? "" }, timeout: 10_000 });
    return [true, "agent runtime", `claude-code: SDK ${CLAUDE_AGENT_SDK_VERSION}, ${stdout.trim()}`];
  } catch (err) {
    return [false, "agent runtime", (err as Error).message];
  }
}

function print(checks: Check[], out: (line: string) => void): void {
  for (const c of checks) out(`${c.ok ? "✓" : "✗"} ${c.name.padEnd(22)} ${c.detail}`);
  const failed = checks.filter((c) => !c.ok).length;
  out(failed ? `\n${failed} problem${failed === 1 ? "" : "s"} to fix.` : "\nEverything looks right.");
}
