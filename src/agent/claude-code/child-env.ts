import path from "node:path";

/** Switches for everything Claude Code would send besides model requests (measured: with them, only model calls leave). */
export const QUIET_ENV: Readonly<Record<string, string>> = Object.freeze({
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  DISABLE_TELEMETRY: "1",
  DISABLE_AUTOUPDATER: "1",
  DISABLE_ERROR_REPORTING: "1",
  DISABLE_BUG_COMMAND: "1",
  DO_NOT_TRACK: "1",
  // Memory files would be written to the per-job config dir and thrown away with it.
  CLAUDE_CODE_DISABLE_AUTO_MEMORY: "1",
});

export interface ChildEnvInput {
  /** PATH, LANG and the job's variables (CI, GIT_*), as the built-in runner's shell gets them. */
  base: Readonly<Record<string, string>>;
  /** The job's HOME, as the runtime sees it. */
  home: string;
  /** The job's temporary directory, as the runtime sees it (/tmp inside the jail). */
  tmp: string;
  /** The model gateway's URL, as the runtime sees it. */
  gatewayUrl: string;
  /** The gateway's per-job token: the only credential the runtime gets. */
  token: string;
  commandTimeoutMs: number;
  maxOutputTokens: number;
  clientApp: string;
}

/**
 * The runtime's whole environment, built from scratch: the SDK replaces the child's environment
 * with this, so nothing of the worker's (ANTHROPIC_API_KEY, GITHUB_TOKEN) can leak in.
 */
export function claudeCodeEnv(p: ChildEnvInput): Record<string, string> {
  const loopback = "localhost,127.0.0.1,::1";
  return {
    ...p.base,
    HOME: p.home,
    TMPDIR: p.tmp,
    // Claude Code writes .claude.json, backups/, plugins/ and sessions/ to its config dir and
    // claude-<uid>/ to the temp dir, even without session persistence: keep both in the job's dirs.
    CLAUDE_CONFIG_DIR: path.join(p.home, ".claude"),
    CLAUDE_CODE_TMPDIR: p.tmp,
    ANTHROPIC_BASE_URL: p.gatewayUrl,
    ANTHROPIC_API_KEY: p.token,
    // The gateway is on loopback: never through the sandbox's egress proxy.
    NO_PROXY: loopback,
    no_proxy: loopback,
    BASH_DEFAULT_TIMEOUT_MS: String(p.commandTimeoutMs),
    BASH_MAX_TIMEOUT_MS: String(p.commandTimeoutMs),
    CLAUDE_CODE_MAX_OUTPUT_TOKENS: String(p.maxOutputTokens),
    CLAUDE_AGENT_SDK_CLIENT_APP: p.clientApp,
    ...QUIET_ENV,
  };
}
