import type { Jail } from "../../sandbox/sandbox.js";
import { BashSession, type RunOutcome } from "./bash-session.js";
import { fail, ok, type ToolResult } from "./result.js";

/** Client-side implementation of Anthropic's `bash_20250124` tool: one persistent shell session. */
export interface BashTool {
  definition: { type: "bash_20250124"; name: "bash" };
  run(input: unknown, signal?: AbortSignal): Promise<ToolResult>;
  close(): Promise<void>;
}

/** Options for createBashTool; `env` is the complete environment, nothing is inherited. */
export interface BashToolOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  maxOutputChars: number;
  /** The job's sandbox; without one the shell runs unisolated with `env` (tests only). */
  jail?: Jail;
}

/** Creates the bash tool; the shell starts lazily on the first command and is replaced after a timeout. */
export function createBashTool(opts: BashToolOptions): BashTool {
  let session: BashSession | undefined;
  let closed = false;
  // Tool calls from one assistant turn may arrive together; the shell can only run one at a time.
  let queue: Promise<unknown> = Promise.resolve();

  async function discard(): Promise<void> {
    const old = session;
    session = undefined;
    await old?.kill();
  }

  async function execute(input: unknown, signal?: AbortSignal): Promise<ToolResult> {
    if (closed) return fail("The bash tool has been closed.");
    const fields = typeof input === "object" && input !== null ? (input as Record<string, unknown>) : {};
    if (fields.restart === true) {
      await discard();
      session = new BashSession(opts);
      return ok("tool has been restarted.");
    }
    const command = fields.command;
    if (typeof command !== "string" || command.trim() === "") {
      return fail('No command provided. Pass {"command": "..."} to run a command, or {"restart": true}.');
    }
    if (command.includes("\0")) return fail("The command contains a NUL byte, which bash cannot run.");
    if (signal?.aborted) return fail("aborted");
    // A shell that exited on its own (e.g. the model ran `exit`) may have left its process group behind.
    if (session && !session.alive) await discard();
    session ??= new BashSession(opts);
    const current = session;
    const outcome = await current.run(command, opts.timeoutMs, opts.maxOutputChars, signal);
    if (outcome.kind !== "done") {
      if (session === current) session = undefined;
      await current.kill();
    }
    return describe(outcome, opts.timeoutMs);
  }

  return {
    definition: { type: "bash_20250124", name: "bash" },
    run(input, signal) {
      const result = queue.then(() => execute(input, signal));
      queue = result.catch(() => undefined);
      return result.catch((err: unknown) =>
        fail(`The bash tool failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    },
    async close() {
      closed = true;
      // Kill first so a long-running command ends now instead of at its timeout.
      await discard();
      await queue;
      await discard();
    },
  };
}

function describe(outcome: RunOutcome, timeoutMs: number): ToolResult {
  const output = outcome.output;
  switch (outcome.kind) {
    case "done":
      if (outcome.exitCode === 0) return ok(output === "" ? "(no output)" : output);
      return ok(withNote(output, `exit code ${outcome.exitCode}`));
    case "exited":
      return ok(
        withNote(
          output,
          `The shell exited (${outcome.exitCode === null ? "killed by a signal" : `exit code ${outcome.exitCode}`}); a new shell will be started for the next command, with the working directory and environment reset.`,
        ),
      );
    case "timeout":
      return fail(
        withNote(
          output,
          `Command timed out after ${formatSeconds(timeoutMs)} s and was killed; the shell was restarted, so the working directory and exported variables were reset. Try a faster or narrower command.`,
        ),
      );
    case "aborted":
      return fail("aborted");
    case "failed":
      return fail(output);
  }
}

function withNote(output: string, note: string): string {
  return output === "" ? note : `${output}\n${note}`;
}

function formatSeconds(ms: number): string {
  return Number.isInteger(ms / 1000) ? String(ms / 1000) : (ms / 1000).toFixed(1);
}
