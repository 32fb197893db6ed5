import { existsSync } from "node:fs";
import path from "node:path";
import type { Config } from "../../config.js";
import type { Logger } from "../../logger.js";
import { Pricing } from "../pricing.js";
import type { AgentRunner, AgentSession, SessionOptions } from "../runner.js";
import { loadClaudeCode } from "./load-sdk.js";
import { ClaudeCodeSession, type ClaudeCodeRunnerOptions } from "./session.js";

export { CLAUDE_CODE_TOOLS, type ClaudeCodeRunnerOptions } from "./session.js";

/**
 * Claude Code (through @anthropic-ai/claude-agent-sdk) as the agent runtime: the same contract
 * as the built-in runner, with `claude` run inside the job's jail and only a per-job gateway
 * token, never the API key, in its environment.
 */
export class ClaudeCodeRunner implements AgentRunner {
  readonly name = "claude-code";
  constructor(private readonly opts: ClaudeCodeRunnerOptions) {}

  /** Opens a session; Claude Code starts with the first send(). */
  startSession(s: SessionOptions): AgentSession {
    return new ClaudeCodeSession(this.opts, s);
  }
}

/** Builds the runner from the config, loading the optional SDK (start-up fails clearly without it). */
export async function createClaudeCodeRunner(config: Config, logger: Logger): Promise<ClaudeCodeRunner> {
  const apiKey = config.anthropic.apiKey;
  if (!apiKey) throw new Error("AGENT_RUNTIME=claude-code needs ANTHROPIC_API_KEY (it stays in the worker; the agent gets a per-job token)");
  const { sdk, executable } = await loadClaudeCode();
  if (config.agent.sandbox === "bubblewrap" && !onPath("socat", config.childEnv.PATH ?? "")) {
    throw new Error("AGENT_RUNTIME=claude-code needs socat in the sandbox (it offers the model gateway on the jail's loopback): apt-get install socat");
  }
  logger.info({ executable }, "agent runtime: claude-code");
  return new ClaudeCodeRunner({
    sdk,
    executable,
    model: config.agent.model,
    apiKey,
    upstream: config.anthropic.baseUrl ?? "https://api.anthropic.com",
    pricing: new Pricing(config.agent.modelPrices),
    commandEnv: { ...config.childEnv },
    commandTimeoutMs: config.agent.commandTimeoutMs,
    maxTokens: config.agent.maxTokens,
    logger,
    clientApp: "agent-workforce",
  });
}

function onPath(program: string, pathVar: string): boolean {
  return pathVar.split(":").some((d) => path.isAbsolute(d) && existsSync(path.join(d, program)));
}
