// Starting a child process from Node is synchronous: libuv forks the whole process and waits for
// the exec. In a worker with a large heap each fork stalls every agent of that event loop, and git
// runs about 30 times per task. So commands are started by a small, long-lived helper process
// (spawner-source.ts) that the worker talks to over IPC; the worker itself is forked once.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { type GroupChild, type GroupMessage, type GroupSpawnOptions, RemoteGroupChild, spawnGroupLocally } from "./group-child.js";
import { SPAWNER_SOURCE } from "./spawner-source.js";

const execFileInProcess = promisify(execFile);

/** The execFile options the spawner supports; output is always utf8 text. */
export interface SpawnOptions {
  cwd?: string;
  /** the command's whole environment: the caller owns it (config.ts reads the process's) */
  env: Record<string, string | undefined>;
  timeout?: number;
  maxBuffer?: number;
  killSignal?: NodeJS.Signals;
  signal?: AbortSignal;
}

/** What the command printed. */
export interface SpawnResult {
  stdout: string;
  stderr: string;
}

/** Runs commands through one helper process, started on first use and again after it dies. */
export interface Spawner {
  /** execFile(file, args, { ...options, encoding: "utf8" }), promisified: same results and error shape */
  run(file: string, args: string[], options: SpawnOptions): Promise<SpawnResult>;
  /** starts a command in a process group of its own, its output streamed back (see GroupChild) */
  spawnGroup(file: string, args: string[], options: GroupSpawnOptions): GroupChild;
  /** pid of the running helper, if one is running */
  helperPid(): number | undefined;
  /** stops the helper; the in-flight calls reject and a later run starts a new one */
  close(): void;
}

/** The helper went away while a command was running in it; the command's outcome is unknown. */
export class SpawnerLostError extends Error {
  override name = "SpawnerLostError";
}

interface Call {
  file: string;
  args: string[];
  options: SpawnOptions;
  resolve: (result: SpawnResult) => void;
  reject: (err: Error) => void;
  detach: () => void;
  /** set once its signal fired: it settles when the helper reports the command gone */
  aborted?: AbortSignal;
}

// How long an aborted call waits for the helper to confirm its command is gone before giving up.
const KILL_CONFIRM_MS = 5_000;

/** A group child the helper runs, with what started it (to start it here if the helper never ran). */
interface Group {
  child: RemoteGroupChild;
  file: string;
  args: string[];
  options: GroupSpawnOptions;
}

interface Helper {
  child: ChildProcess;
  ready: boolean;
  gone: boolean;
  calls: Map<number, Call>;
  groups: Map<number, Group>;
}

interface DoneMessage {
  type: "done";
  id: number;
  error?: Record<string, unknown> & { message: string };
  stdout: string;
  stderr: string;
}

type HelperMessage = { type: "ready" } | { type: "gone"; id: number } | DoneMessage | GroupMessage;

/** The error execFile rejects with when its signal fires (Node's internal AbortError). */
function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error("The operation was aborted", { cause: signal.reason }), {
    name: "AbortError",
    code: "ABORT_ERR",
  });
}

/** Rebuilds the helper's copy of an execFile error, with the output as promisified execFile attaches it. */
function execError(done: DoneMessage): Error {
  const { message, ...fields } = done.error ?? { message: "unknown error" };
  return Object.assign(new Error(message), fields, { stdout: done.stdout, stderr: done.stderr });
}

function runInProcess(file: string, args: string[], options: SpawnOptions): Promise<SpawnResult> {
  return execFileInProcess(file, args, { ...options, encoding: "utf8", windowsHide: true });
}

// The channel keeps this process alive only while a call waits on it, as a child process would.
function holdOpen(h: Helper): void {
  if (h.calls.size > 0 || h.groups.size > 0) h.child.channel?.ref();
  else h.child.channel?.unref();
}

let warnedFallback = false;
function warnFallbackOnce(cause: unknown, execPath: string): void {
  if (warnedFallback) return;
  warnedFallback = true;
  const why = cause instanceof Error ? cause.message : String(cause);
  process.emitWarning(
    `Could not start the spawner helper process (${why}); child processes now start from this process, which stalls its event loop on every start. Check that ${execPath} can be run.`,
    { code: "AGENT_WORKFORCE_SPAWNER_FALLBACK" },
  );
}

class HelperSpawner implements Spawner {
  private helper: Helper | undefined;
  // The helper could not be started at all: commands run in-process from then on.
  private unavailable = false;
  private nextId = 1;
  private exitHookSet = false;

  constructor(private readonly execPath: string) {}

  run(file: string, args: string[], options: SpawnOptions): Promise<SpawnResult> {
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal));
    const h = this.unavailable ? undefined : (this.helper ??= this.start());
    if (!h) return runInProcess(file, args, options);
    return this.runIn(h, file, args, options);
  }

  spawnGroup(file: string, args: string[], options: GroupSpawnOptions): GroupChild {
    const h = this.unavailable ? undefined : (this.helper ??= this.start());
    if (!h) return spawnGroupLocally(file, args, options);
    const id = this.nextId++;
    // false when the helper cannot be reached: its "close" then settles the child (lose).
    const send = (msg: object): boolean => {
      if (h.gone || !h.child.connected) return false;
      h.child.send({ ...msg, id }, () => {});
      return true;
    };
    const child = new RemoteGroupChild(send, options.stdin);
    h.groups.set(id, { child, file, args, options });
    holdOpen(h);
    // Not reached before "ready": lose() starts it here instead, as it runs queued calls here.
    if (!send({ type: "g-spawn", file, args, options }) && (h.gone || h.ready)) {
      // Going away; its "close" (lose) must not settle this child a second time.
      h.groups.delete(id);
      holdOpen(h);
      queueMicrotask(() => child.lost(new SpawnerLostError(`The spawner helper process could not be reached to start ${file}`)));
    }
    return child;
  }

  helperPid(): number | undefined {
    return this.helper?.child.pid;
  }

  close(): void {
    if (this.helper) this.lose(this.helper, "was closed", undefined, true);
  }

  private start(): Helper | undefined {
    // Empty: every request carries its command's environment, and without NODE_OPTIONS (loaders,
    // inspector flags) the helper is plain Node and stays small.
    const env = {};
    let child: ChildProcess;
    try {
      child = spawn(this.execPath, ["-e", SPAWNER_SOURCE], {
        stdio: ["ignore", "ignore", "inherit", "ipc"],
        serialization: "advanced",
        env,
        windowsHide: true,
      });
    } catch (err) {
      this.unavailable = true;
      warnFallbackOnce(err, this.execPath);
      return undefined;
    }
    const h: Helper = { child, ready: false, gone: false, calls: new Map(), groups: new Map() };
    child.on("message", (msg: HelperMessage) => this.onMessage(h, msg));
    child.on("error", (err) => this.lose(h, `failed (${err.message})`, err));
    // "close", not "exit": it comes after the channel has delivered the helper's last answers.
    child.on("close", (code, signal) => this.lose(h, `exited (${signal ?? `code ${code}`})`));
    child.unref();
    holdOpen(h);
    if (!this.exitHookSet) {
      this.exitHookSet = true;
      process.once("exit", () => this.helper?.child.kill());
    }
    return h;
  }

  private onMessage(h: Helper, msg: HelperMessage): void {
    if (msg.type === "ready") h.ready = true;
    if (msg.type.startsWith("g-")) return this.onGroupMessage(h, msg as GroupMessage);
    if (msg.type === "gone") {
      // The killed command exited; what it started may still hold its pipes, so "done" can lag.
      const call = h.calls.get(msg.id);
      if (!call?.aborted) return;
      h.calls.delete(msg.id);
      holdOpen(h);
      call.detach();
      call.reject(abortError(call.aborted));
      return;
    }
    if (msg.type !== "done") return;
    const call = h.calls.get(msg.id);
    if (!call) return; // given up on after an abort
    h.calls.delete(msg.id);
    holdOpen(h);
    call.detach();
    if (call.aborted) call.reject(abortError(call.aborted));
    else if (msg.error) call.reject(execError(msg));
    else call.resolve({ stdout: msg.stdout, stderr: msg.stderr });
  }

  private onGroupMessage(h: Helper, msg: GroupMessage): void {
    const child = h.groups.get(msg.id)?.child;
    if (!child) return;
    if (msg.type === "g-close" || msg.type === "g-error") {
      h.groups.delete(msg.id);
      holdOpen(h);
    }
    child.receive(msg);
  }

  /** Starts a group child of a helper that never ran here instead; it ends with the error if it cannot start. */
  private startHere(g: Group): void {
    try {
      g.child.adopt(spawnGroupLocally(g.file, g.args, g.options));
    } catch (err) {
      g.child.lost(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private runIn(h: Helper, file: string, args: string[], options: SpawnOptions): Promise<SpawnResult> {
    return new Promise<SpawnResult>((resolve, reject) => {
      const id = this.nextId++;
      const { signal, ...rest } = options;
      const onAbort = (): void => {
        const call = h.calls.get(id);
        if (!call || call.aborted) return;
        // Settled when the helper reports the command gone (onMessage), not now: a caller that
        // goes on (releasing a repository lock, say) must not leave git still writing.
        call.aborted = signal as AbortSignal;
        // A failed send means the helper is going away; its "close" handles that.
        if (h.child.connected) h.child.send({ type: "kill", id, signal: options.killSignal }, () => {});
        setTimeout(() => {
          if (h.calls.get(id) !== call) return;
          h.calls.delete(id);
          holdOpen(h);
          reject(abortError(signal as AbortSignal));
        }, KILL_CONFIRM_MS).unref();
      };
      const detach = (): void => signal?.removeEventListener("abort", onAbort);
      h.calls.set(id, { file, args, options, resolve, reject, detach });
      holdOpen(h);
      signal?.addEventListener("abort", onAbort, { once: true });
      const sent = { ...rest, encoding: "utf8" };
      h.child.send({ type: "run", id, file, args, options: sent }, (err) => {
        if (err) this.lose(h, `could not be reached (${err.message})`, err);
      });
    });
  }

  /** Settles the calls of a helper that is gone; `closing` when we ended it on purpose. */
  private lose(h: Helper, why: string, cause?: unknown, closing = false): void {
    if (h.gone) return;
    h.gone = true;
    if (this.helper === h) this.helper = undefined;
    h.child.kill();
    const calls = [...h.calls.values()];
    h.calls.clear();
    const groups = [...h.groups.values()];
    h.groups.clear();
    for (const g of groups) {
      // Before "ready" nothing ran: such a command starts here (below), like the calls.
      if (!h.ready && !closing) this.startHere(g);
      else g.child.lost(new SpawnerLostError(`The spawner helper process ${why} while running ${g.file}; it was stopped`, { cause }));
    }
    for (const c of calls) c.detach();
    if (!h.ready && !closing) {
      // It never ran anything: run the queued commands here instead.
      this.unavailable = true;
      warnFallbackOnce(cause ?? why, this.execPath);
      for (const c of calls) {
        if (c.aborted) c.reject(abortError(c.aborted));
        else runInProcess(c.file, c.args, c.options).then(c.resolve, c.reject);
      }
      return;
    }
    for (const c of calls) {
      // The helper kills its commands as it goes: an aborted one is as gone as it will get.
      if (c.aborted) {
        c.reject(abortError(c.aborted));
        continue;
      }
      const message = `The spawner helper process ${why} while running ${c.file}; its outcome is unknown, so retry the job (a new helper starts on the next command)`;
      c.reject(new SpawnerLostError(message, { cause }));
    }
  }
}

/** A spawner whose helper runs `execPath` (tests point it elsewhere to exercise the fallback). */
export function createSpawner(o: { execPath?: string } = {}): Spawner {
  return new HelperSpawner(o.execPath ?? process.execPath);
}

const shared = createSpawner();

/** execFile through this process's shared spawner helper; see Spawner.run. */
export function spawnFile(file: string, args: string[], options: SpawnOptions): Promise<SpawnResult> {
  return shared.run(file, args, options);
}

/** A command in a process group of its own, started through this process's shared spawner helper; see GroupChild. */
export function spawnGroup(file: string, args: string[], options: GroupSpawnOptions): GroupChild {
  return shared.spawnGroup(file, args, options);
}

/** The shared spawner, for diagnostics and tests. */
export const sharedSpawner: Spawner = shared;
