import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { Jail } from "../../sandbox/sandbox.js";
import { OutputCollector } from "./output-cap.js";
import type { GroupChild } from "../../process/group-child.js";
import { spawnGroup } from "../../process/spawner.js";

/** How one command in the session ended. */
export type RunOutcome =
  | { kind: "done"; output: string; exitCode: number }
  | { kind: "timeout" | "aborted"; output: string }
  | { kind: "exited"; output: string; exitCode: number | null }
  | { kind: "failed"; output: string };

/** Options for starting a session. */
export interface SessionOptions {
  cwd: string;
  /** The shell's whole environment when no jail is given. */
  env: Record<string, string>;
  /** The job's sandbox: the shell runs inside it, with the jail's environment. */
  jail?: Jail;
}

// An absolute path avoids depending on the caller's PATH just to find the shell.
const BASH = ["/bin/bash", "/usr/bin/bash", "/usr/local/bin/bash"].find((p) => existsSync(p)) ?? "bash";

/** Single-quotes a string for bash so it reaches `eval` byte for byte. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * One long-lived `bash` process in its own process group. Commands go in over stdin and
 * their combined stdout+stderr is read back up to a per-command sentinel line.
 */
export class BashSession {
  private readonly child: GroupChild;
  private readonly decoder = new StringDecoder("utf8");
  private listener: ((text: string) => void) | undefined;
  private exitCode: number | null | undefined;
  private spawnError: Error | undefined;
  private readonly exitWaiters: Array<() => void> = [];

  constructor(opts: SessionOptions) {
    // In a process group of its own, so one kill reaches everything it started; started by the
    // spawner helper, so the worker's agents do not stall while the worker forks.
    const argv = [BASH, "--noprofile", "--norc"];
    const spec = opts.jail ? opts.jail.spawnSpec(argv) : { command: BASH, args: argv.slice(1), env: { ...opts.env } };
    this.child = spawnGroup(spec.command, spec.args, { cwd: opts.cwd, env: spec.env, stdin: true });
    this.child.on("output", (chunk: Buffer) => this.listener?.(this.decoder.write(chunk)));
    this.child.on("error", (err: Error) => {
      this.spawnError = err;
      this.markExited(null);
    });
    this.child.on("exit", (code: number | null, signal: NodeJS.Signals | null) => this.markExited(code ?? (signal ? null : 0)));
    this.child.write("exec 2>&1\n");
  }

  /** Whether the shell process is still running. */
  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** Runs one command to completion, timeout, abort, or shell exit. */
  run(command: string, timeoutMs: number, maxOutputChars: number, signal?: AbortSignal): Promise<RunOutcome> {
    const marker = `__AWF_${randomBytes(8).toString("hex")}__`;
    const sentinel = new RegExp(`\\n${marker}(\\d+)\\n`);
    const collector = new OutputCollector(maxOutputChars);
    return new Promise<RunOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: RunOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.listener = undefined;
        const waiter = this.exitWaiters.indexOf(onExit);
        if (waiter !== -1) this.exitWaiters.splice(waiter, 1);
        resolve(outcome);
      };
      const killWith = (kind: "timeout" | "aborted") => {
        finish({ kind, output: trimNewline(collector.render()) });
        void this.kill();
      };
      const onAbort = () => killWith("aborted");
      const onExit = () => {
        // Output written just before exit can still be in the pipe when the exit event fires.
        const done = () =>
          finish({
            kind: "exited",
            output: trimNewline(collector.render()),
            exitCode: this.exitCode ?? null,
          });
        if (this.spawnError) {
          return finish({ kind: "failed", output: `bash could not be started: ${this.spawnError.message}` });
        }
        if (this.child.stdoutEnded) return done();
        this.child.once("stdout-end", done);
        setTimeout(done, 200).unref();
      };
      const timer = setTimeout(() => killWith("timeout"), timeoutMs);
      this.listener = (text) => {
        collector.push(text);
        const match = sentinel.exec(collector.retained());
        if (match) {
          finish({
            kind: "done",
            output: trimNewline(collector.render(match.index)),
            exitCode: Number(match[1]),
          });
        }
      };
      if (!this.alive) return onExit();
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.exitWaiters.push(onExit);
      // eval keeps cd/export in this shell, turns syntax errors into a status instead of desyncing the
      // stream, and </dev/null stops commands that read stdin from swallowing the next script.
      this.child.write(`eval ${shellQuote(command)} </dev/null\nprintf '\\n${marker}%s\\n' "$?"\n`);
    });
  }

  /** Kills the shell's whole process group (background jobs included) and waits for the shell to exit. */
  kill(): Promise<void> {
    this.child.killGroup("SIGKILL");
    this.child.endInput();
    if (!this.alive) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  private markExited(code: number | null): void {
    if (this.exitCode !== undefined) return;
    this.exitCode = code;
    for (const waiter of this.exitWaiters.splice(0)) waiter();
  }
}

function trimNewline(s: string): string {
  return s.endsWith("\n") ? s.slice(0, -1) : s;
}
