// The cause attached to git errors is a scrubbed copy: the original may carry the token.
/* eslint-disable preserve-caught-error */
import { SpawnerLostError, spawnFile } from "../process/spawner.js";

/** Default limit for one git command; clones of large repositories need minutes. */
export const DEFAULT_GIT_TIMEOUT_MS = 10 * 60 * 1000;
const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;
const REDACTED = "[redacted]";

// Repository hooks and fsmonitor programs would run with our environment (including the token
// header on network commands), and the agent can write to the repository, so never run them.
const HARDENING = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"];

// Variables that would point git at another repository, identity or config, inject extra config
// (which could carry credentials or override ours) or make git trace headers to stderr.
const INHERITED_DENYLIST =
  /^GIT_(DIR|WORK_TREE|INDEX_FILE|INDEX_VERSION|COMMON_DIR|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|NAMESPACE|CEILING_DIRECTORIES|DISCOVERY_ACROSS_FILESYSTEM|PREFIX|AUTHOR_\w+|COMMITTER_\w+|CONFIG_PARAMETERS|CONFIG_COUNT|CONFIG_KEY_\d+|CONFIG_VALUE_\d+|TRACE\w*|CURL_VERBOSE|REDACT_COOKIES|ASKPASS|TERMINAL_PROMPT|EDITOR|SEQUENCE_EDITOR|QUARANTINE_PATH|REFLOG_ACTION|LITERAL_PATHSPECS|GLOB_PATHSPECS|NOGLOB_PATHSPECS|ICASE_PATHSPECS)$/;

/**
 * The repository a command runs in, named explicitly: git then never discovers one from a `.git`
 * file or `commondir` the agent could have rewritten (a worktree's admin files live in the mirror).
 */
export interface RepoDirs {
  gitDir: string;
  /** for a linked worktree only: set on the mirror itself, git would no longer treat it as bare */
  commonDir?: string;
  workTree?: string;
}

/** Options for one git invocation. */
export interface GitCall {
  cwd?: string;
  repo?: RepoDirs;
  baseEnv: Record<string, string>;
  token?: string;
  /**
   * URL the token is meant for; the header is then only sent to that scheme and host, so a
   * remote URL rewritten in the repository config (url.*.insteadOf) cannot receive it.
   */
  tokenUrl?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  maxBuffer?: number;
}

/** What a git process produced; stdout/stderr are already scrubbed of the token. */
export interface GitOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout hit maxBuffer and was cut short (only reported when exitCode is 0 otherwise) */
  truncated: boolean;
}

interface ExecFailure extends Error {
  code?: number | string;
  signal?: NodeJS.Signals | null;
  killed?: boolean;
  stdout?: string;
  stderr?: string;
}

/** The Basic credential GitHub accepts for a token over https. */
function basicCredential(token: string): string {
  return Buffer.from(`x-access-token:${token}`, "utf8").toString("base64");
}

/** Every form in which the token could show up in git's output. */
function secretsOf(token: string | undefined): string[] {
  if (!token) return [];
  return [basicCredential(token), Buffer.from(token, "utf8").toString("base64"), token];
}

/** Replaces the token (and its encodings, and any URL userinfo) with a marker. */
export function scrub(text: string, token: string | undefined): string {
  let out = text;
  for (const secret of secretsOf(token)) out = out.split(secret).join(REDACTED);
  // The pattern needs "://": most output (ls-files, diffs) has none, and the scan is costly.
  if (!out.includes("://")) return out;
  return out.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, `$1${REDACTED}@`);
}

/** scheme://host/ of a URL, the prefix git matches http.<url>.* settings against. */
function headerScope(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}/`;
}

/** Builds the child environment: the caller's base env plus non-interactive and auth settings. */
export function gitEnv(
  baseEnv: Record<string, string>,
  token?: string,
  tokenUrl?: string,
  repo?: RepoDirs,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(baseEnv)) {
    if (!INHERITED_DENYLIST.test(key)) env[key] = value;
  }
  // The agent runs as the same user and could write ~/.gitconfig (or $XDG_CONFIG_HOME/git/config):
  // our git reads only the repository config, which we rewrite before each command (guard.ts).
  env.GIT_CONFIG_NOSYSTEM = "1";
  env.GIT_CONFIG_GLOBAL = "/dev/null";
  if (repo) {
    env.GIT_DIR = repo.gitDir;
    if (repo.commonDir) env.GIT_COMMON_DIR = repo.commonDir;
    if (repo.workTree) env.GIT_WORK_TREE = repo.workTree;
  }
  // A prompt would hang a headless worker until the timeout; fail fast instead.
  env.GIT_TERMINAL_PROMPT = "0";
  env.GCM_INTERACTIVE = "never";
  env.GIT_ASKPASS = "/bin/true";
  env.GIT_EDITOR = "true";
  // Killing git on abort or timeout does not kill its https helper; a stalled connection would
  // keep that orphan alive indefinitely, so let curl give up on connections that stop moving.
  env.GIT_HTTP_LOW_SPEED_LIMIT ??= "1";
  env.GIT_HTTP_LOW_SPEED_TIME ??= "300";
  if (token) {
    // Config via environment, not argv, so the header is not visible in `ps` and never lands in
    // a config file; it lives only as long as this one git process.
    env.GIT_CONFIG_COUNT = "1";
    env.GIT_CONFIG_KEY_0 = tokenUrl ? `http.${headerScope(tokenUrl)}.extraHeader` : "http.extraHeader";
    env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${basicCredential(token)}`;
  }
  return env;
}

function describe(args: string[], token: string | undefined): string {
  const text = scrub(args.join(" "), token);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function tail(text: string, max = 2000): string {
  const trimmed = text.trim();
  return trimmed.length > max ? `…${trimmed.slice(-max)}` : trimmed;
}

/** A scrubbed copy of a child-process error, safe to keep as an Error cause. */
function scrubbedCause(err: ExecFailure, token: string | undefined): Error {
  return Object.assign(new Error(scrub(err.message, token)), {
    name: err.name,
    code: err.code,
    signal: err.signal ?? undefined,
  });
}

/** Rejection used when the caller's AbortSignal fires; name matches DOM AbortError. */
function abortError(args: string[], call: GitCall): Error {
  const err = new Error(`git ${describe(args, call.token)} was cancelled because the job was aborted`, {
    cause: call.signal?.reason,
  });
  err.name = "AbortError";
  return err;
}

/** Runs git and reports its exit code; throws only when git could not run to completion. */
export async function execGit(args: string[], call: GitCall): Promise<GitOutcome> {
  if (call.signal?.aborted) throw abortError(args, call);
  const timeoutMs = call.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
  const fullArgs = [...HARDENING, ...(call.token ? ["-c", "credential.helper="] : []), ...args];
  try {
    // Started by the spawner helper: forking this (large) process per git command stalls its agents.
    const { stdout, stderr } = await spawnFile("git", fullArgs, {
      cwd: call.cwd,
      env: gitEnv(call.baseEnv, call.token, call.tokenUrl, call.repo),
      signal: call.signal,
      timeout: timeoutMs,
      maxBuffer: call.maxBuffer ?? DEFAULT_MAX_BUFFER,
    });
    return {
      exitCode: 0,
      stdout: scrub(stdout, call.token),
      stderr: scrub(stderr, call.token),
      truncated: false,
    };
  } catch (error) {
    const err = error as ExecFailure;
    if (call.signal?.aborted) throw abortError(args, call);
    const what = `git ${describe(args, call.token)}`;
    const cause = scrubbedCause(err, call.token);
    if (err instanceof SpawnerLostError) throw new Error(`${what} was interrupted: ${err.message}`, { cause });
    if (err.code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER") {
      return { exitCode: 0, stdout: scrub(err.stdout ?? "", call.token), stderr: "", truncated: true };
    }
    if (typeof err.code === "string") {
      throw new Error(
        `Could not start ${what}${call.cwd ? ` in ${call.cwd}` : ""} (${err.code}): check that git is installed on the PATH given in baseEnv and that the directory exists`,
        { cause },
      );
    }
    if (err.killed) {
      throw new Error(
        `${what} timed out after ${timeoutMs < 10_000 ? `${timeoutMs}ms` : `${Math.round(timeoutMs / 1000)}s`} and was killed: check network access to the remote, or raise gitTimeoutMs for very large repositories`,
        { cause },
      );
    }
    if (err.code == null && err.signal) {
      throw new Error(`${what} was killed by ${err.signal}: check the host's memory and process limits`, {
        cause,
      });
    }
    return {
      exitCode: typeof err.code === "number" ? err.code : 1,
      stdout: scrub(err.stdout ?? "", call.token),
      stderr: scrub(err.stderr ?? "", call.token),
      truncated: false,
    };
  }
}

/** An operator-readable error for a git command that exited non-zero. */
export function gitFailure(args: string[], call: GitCall, outcome: GitOutcome, hint?: string): Error {
  // Both streams: `push --porcelain` says why a ref was rejected on stdout, and hooks speak on stderr.
  const output = tail([outcome.stderr.trim(), outcome.stdout.trim()].filter(Boolean).join("\n")) || "(no output)";
  const where = call.cwd ? ` in ${call.cwd}` : "";
  const message = `git ${describe(args, call.token)} failed with exit code ${outcome.exitCode}${where}: ${output}`;
  return new Error(hint ? `${message}\n${hint}` : message, {
    cause: Object.assign(new Error(output), { exitCode: outcome.exitCode }),
  });
}

/** Runs git with the token in a per-command http header; exported for reuse */
export async function runGit(args: string[], p: GitCall): Promise<{ stdout: string; stderr: string }> {
  const outcome = await execGit(args, p);
  if (outcome.exitCode !== 0) throw gitFailure(args, p, outcome);
  if (outcome.truncated) {
    throw new Error(
      `git ${describe(args, p.token)} printed more than ${p.maxBuffer ?? DEFAULT_MAX_BUFFER} bytes; narrow the command`,
    );
  }
  return { stdout: outcome.stdout, stderr: outcome.stderr };
}

/** A git runner bound to one environment and timeout, used throughout the workspace code. */
export interface Git {
  /** stdout of a command that must succeed */
  run(args: string[], o: Omit<GitCall, "baseEnv" | "timeoutMs">): Promise<string>;
  /** the outcome of a command whose non-zero exit code carries meaning */
  probe(args: string[], o: Omit<GitCall, "baseEnv" | "timeoutMs">): Promise<GitOutcome>;
  /** builds the error for a failed probe */
  failure(
    args: string[],
    o: Omit<GitCall, "baseEnv" | "timeoutMs">,
    outcome: GitOutcome,
    hint?: string,
  ): Error;
  /** a runner for one repository that awaits `before` (e.g. restoring its config) ahead of every command */
  at(repo: RepoDirs, before?: () => Promise<void>): Git;
}

/** Binds runGit-style calls to a base environment and timeout, and optionally a repository. */
export function createGit(
  baseEnv: Record<string, string>,
  timeoutMs: number,
  repo?: RepoDirs,
  before?: () => Promise<void>,
): Git {
  const full = (o: Omit<GitCall, "baseEnv" | "timeoutMs">): GitCall => ({ repo, ...o, baseEnv, timeoutMs });
  return {
    run: async (args, o) => {
      await before?.();
      return (await runGit(args, full(o))).stdout;
    },
    probe: async (args, o) => {
      await before?.();
      return execGit(args, full(o));
    },
    failure: (args, o, outcome, hint) => gitFailure(args, full(o), outcome, hint),
    at: (dirs, hook) => createGit(baseEnv, timeoutMs, dirs, hook),
  };
}
