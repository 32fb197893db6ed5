// A long-running command in a process group of its own (the agent's shell, the checks), whose
// output streams back as it comes. Started by the spawner helper (see spawner.ts) so the worker
// never forks itself; started here only when the helper cannot run at all.
import { type ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";

/** How a group child is started. */
export interface GroupSpawnOptions {
  cwd?: string;
  /** the command's whole environment */
  env: Record<string, string | undefined>;
  /** whether the command reads stdin (write, endInput); otherwise it gets /dev/null */
  stdin: boolean;
}

/**
 * Events: "output" (chunk: Buffer, of stdout or stderr as they arrive), "stdout-end" (stdout is
 * drained), "exit" (code, signal), then exactly one of "close" (code, signal: exited and every
 * output drained) or "error" (err: it could not be started, or the helper running it was lost
 * before it exited).
 */
export abstract class GroupChild extends EventEmitter {
  /** stdout has ended: no more output will come */
  stdoutEnded = false;
  /** the process group's id once known (the command's pid: it leads its own group) */
  protected pid: number | undefined;
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private ended = false;

  /** writes to the command's stdin; ignored once the input is closed */
  abstract write(text: string): void;
  /** closes the command's stdin */
  abstract endInput(): void;
  /** signals the group of a command whose pid is not known yet */
  protected abstract signalUnstarted(signal: NodeJS.Signals): void;

  /** Signals the command's whole process group (what it started in the background included); nothing once it closed. */
  killGroup(signal: NodeJS.Signals): void {
    if (this.ended) return;
    if (this.pid === undefined) return this.signalUnstarted(signal);
    this.signalGroup(signal);
  }

  // From here, not through the helper: the group may outlive the command (a background job).
  private signalGroup(signal: NodeJS.Signals): void {
    if (this.pid === undefined) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }

  protected markStdoutEnd(): void {
    this.stdoutEnded = true;
    this.emit("stdout-end");
  }

  protected markExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.ended || this.exited) return;
    this.exited = { code, signal };
    this.emit("exit", code, signal);
  }

  protected markClose(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.ended) return;
    // What it left running in the background goes with it; after this the group id is not ours
    // to signal (it may be reused), so killGroup does nothing.
    this.signalGroup("SIGKILL");
    this.ended = true;
    this.emit("close", code, signal);
  }

  protected markError(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.emit("error", err);
  }

  /** Tracking was lost: "close" with its exit when it had exited (output may be cut), else `err`. */
  protected markLost(err: Error): void {
    if (this.exited) this.markClose(this.exited.code, this.exited.signal);
    else this.markError(err);
  }
}

/** A group child started by this process itself: the fallback when the helper cannot run. */
class LocalGroupChild extends GroupChild {
  private readonly child: ChildProcess;

  constructor(file: string, args: string[], o: GroupSpawnOptions) {
    super();
    // detached: a new session and process group, so one kill reaches everything it started and
    // no command can grab a controlling terminal and block on a prompt.
    this.child = spawn(file, args, { cwd: o.cwd, env: o.env, detached: true, stdio: [o.stdin ? "pipe" : "ignore", "pipe", "pipe"] });
    this.pid = this.child.pid;
    this.child.stdout?.on("data", (chunk: Buffer) => this.emit("output", chunk));
    this.child.stderr?.on("data", (chunk: Buffer) => this.emit("output", chunk));
    this.child.stdout?.once("end", () => this.markStdoutEnd());
    // Writes to a command that just died raise EPIPE here; "exit" reports the death instead.
    this.child.stdin?.on("error", () => {});
    this.child.on("error", (err) => this.markError(err));
    this.child.on("exit", (code, signal) => this.markExit(code, signal));
    this.child.on("close", (code, signal) => this.markClose(code, signal));
  }

  write(text: string): void {
    if (this.child.stdin?.writable) this.child.stdin.write(text);
  }

  endInput(): void {
    this.child.stdin?.destroy();
  }

  protected signalUnstarted(): void {
    // No pid: it never started, so there is nothing to signal.
  }
}

/** Starts a group child from this process (it forks this process: the spawner avoids that). */
export function spawnGroupLocally(file: string, args: string[], o: GroupSpawnOptions): GroupChild {
  return new LocalGroupChild(file, args, o);
}

/** What the spawner helper reports about a group child it started (see spawner-source.ts). */
export type GroupMessage =
  | { type: "g-spawned"; id: number; pid: number }
  | { type: "g-out"; id: number; chunk: Uint8Array }
  | { type: "g-out-end"; id: number }
  | { type: "g-exit"; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { type: "g-close"; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { type: "g-error"; id: number; error: { message: string; code?: string } };

type GroupRequest = { type: "g-stdin"; data: string } | { type: "g-stdin-end" } | { type: "g-signal"; signal: NodeJS.Signals };

/** A group child the spawner helper started: requests go out through `send`, reports come in through `receive`. */
export class RemoteGroupChild extends GroupChild {
  private inputOpen: boolean;
  // Set when the helper never started and the command was started here instead (adopt).
  private local: GroupChild | undefined;
  // Requests sent before the helper reported the pid: replayed on `local` if it takes over.
  private unconfirmed: GroupRequest[] = [];

  constructor(
    private readonly send: (msg: GroupRequest) => boolean,
    stdin: boolean,
  ) {
    super();
    this.inputOpen = stdin;
  }

  write(text: string): void {
    if (this.local) this.local.write(text);
    else if (this.inputOpen) this.request({ type: "g-stdin", data: text });
  }

  endInput(): void {
    if (this.local) return this.local.endInput();
    if (!this.inputOpen) return;
    this.inputOpen = false;
    this.request({ type: "g-stdin-end" });
  }

  private request(msg: GroupRequest): void {
    if (this.pid === undefined) this.unconfirmed.push(msg);
    this.send(msg);
  }

  override killGroup(signal: NodeJS.Signals): void {
    if (this.local) this.local.killGroup(signal);
    else super.killGroup(signal);
  }

  protected signalUnstarted(signal: NodeJS.Signals): void {
    this.request({ type: "g-signal", signal });
  }

  /** Handles one report of the helper about this child. */
  receive(msg: GroupMessage): void {
    switch (msg.type) {
      case "g-spawned":
        this.pid = msg.pid;
        this.unconfirmed = [];
        break;
      case "g-out":
        this.emit("output", Buffer.isBuffer(msg.chunk) ? msg.chunk : Buffer.from(msg.chunk.buffer, msg.chunk.byteOffset, msg.chunk.byteLength));
        break;
      case "g-out-end":
        this.markStdoutEnd();
        break;
      case "g-exit":
        this.inputOpen = false;
        this.markExit(msg.code, msg.signal);
        break;
      case "g-close":
        this.markClose(msg.code, msg.signal);
        break;
      case "g-error":
        this.inputOpen = false;
        this.markError(Object.assign(new Error(msg.error.message), msg.error.code ? { code: msg.error.code } : {}));
        break;
    }
  }

  /** The helper is gone: the process group is killed by pid, and listeners get `err` (or "close"). */
  lost(err: Error): void {
    this.killGroup("SIGKILL");
    this.inputOpen = false;
    this.markLost(err);
  }

  /** The helper never started, so the command never ran: it runs as `local` (started here) instead. */
  adopt(local: GroupChild): void {
    this.local = local;
    local.on("output", (chunk: Buffer) => this.emit("output", chunk));
    local.on("stdout-end", () => this.markStdoutEnd());
    local.on("exit", (code: number | null, signal: NodeJS.Signals | null) => this.markExit(code, signal));
    local.on("close", (code: number | null, signal: NodeJS.Signals | null) => this.markClose(code, signal));
    local.on("error", (err: Error) => this.markError(err));
    // What the caller asked before the takeover (the shell's first command, a kill) still applies.
    for (const msg of this.unconfirmed.splice(0)) {
      if (msg.type === "g-stdin") local.write(msg.data);
      else if (msg.type === "g-stdin-end") local.endInput();
      else local.killGroup(msg.signal);
    }
  }
}
