// The program of the spawner helper process, kept as a string so it runs with `node -e` and no
// loader: the same source works under tsx, vitest and the compiled dist, and the helper stays small
// (a fork of it is cheap, unlike a fork of a worker with a large heap).
//
// Protocol, over the IPC channel (advanced serialization):
//   parent → helper  { type: "run", id, file, args, options }   options as execFile takes them
//   parent → helper  { type: "kill", id }                       the caller aborted: kill that child
//   helper → parent  { type: "ready" }                          sent once, before any "done"
//   helper → parent  { type: "done", id, error?, stdout, stderr }
//   helper → parent  { type: "gone", id }                       a killed child exited (its own
//                                                               children may still hold its pipes)
//   parent → helper  { type: "g-spawn", id, file, args, options }  a command in its own process
//                                                               group, output streamed back:
//   helper → parent  g-spawned (pid), g-out (chunk), g-out-end, g-exit, g-close, g-error
//   parent → helper  g-stdin (data), g-stdin-end, g-signal (signal: sent to the whole group)
// Requests carry the child's environment (which may hold a token header): it goes only over this
// pipe and is never printed here.

/** CommonJS source run by the helper; see the protocol above. */
export const SPAWNER_SOURCE = String.raw`
"use strict";
const { execFile, spawn } = require("node:child_process");
process.title = "agent-workforce-spawner";
const children = new Map();
const groups = new Map();

function send(msg) {
  if (process.connected) process.send(msg);
}

function signalGroup(child, signal) {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function killAll() {
  for (const child of children.values()) child.kill();
  for (const child of groups.values()) signalGroup(child, "SIGKILL");
}

// Copies what the parent needs of a child-process error; an Error object would lose its own fields.
function plainError(err) {
  const out = { message: err.message, name: err.name };
  for (const key of ["code", "errno", "syscall", "path", "killed", "signal", "cmd"]) {
    if (err[key] !== undefined) out[key] = err[key];
  }
  return out;
}

function run(msg) {
  let child;
  try {
    child = execFile(msg.file, msg.args, msg.options, (err, stdout, stderr) => {
      children.delete(msg.id);
      if (process.connected) {
        process.send({ type: "done", id: msg.id, error: err ? plainError(err) : undefined, stdout, stderr });
      }
    });
  } catch (err) {
    // execFile throws synchronously for invalid arguments; answer instead of dying.
    if (process.connected) process.send({ type: "done", id: msg.id, error: plainError(err), stdout: "", stderr: "" });
    return;
  }
  children.set(msg.id, child);
}

// detached: a new session and process group, so one signal reaches everything the command
// started, and no command can grab a controlling terminal and block on a prompt.
function spawnGroup(msg) {
  const id = msg.id;
  let child;
  try {
    const stdin = msg.options.stdin ? "pipe" : "ignore";
    child = spawn(msg.file, msg.args, { cwd: msg.options.cwd, env: msg.options.env, detached: true, stdio: [stdin, "pipe", "pipe"] });
  } catch (err) {
    send({ type: "g-error", id, error: plainError(err) });
    return;
  }
  groups.set(id, child);
  if (child.pid) send({ type: "g-spawned", id, pid: child.pid });
  // Backpressure: a command that prints without end must not fill this helper's memory (and take
  // every other job's commands down with it); its pipes wait while the channel is backed up.
  const streams = [child.stdout, child.stderr];
  const out = (chunk) => {
    if (!process.connected) return;
    const flowing = process.send({ type: "g-out", id, chunk }, () => {
      for (const s of streams) s.resume();
    });
    if (!flowing) for (const s of streams) s.pause();
  };
  for (const s of streams) s.on("data", out);
  child.stdout.once("end", () => send({ type: "g-out-end", id }));
  // Writes to a command that just died raise EPIPE; "g-exit" reports the death instead.
  if (child.stdin) child.stdin.on("error", () => {});
  child.on("error", (err) => {
    groups.delete(id);
    send({ type: "g-error", id, error: plainError(err) });
  });
  child.on("exit", (code, signal) => send({ type: "g-exit", id, code, signal }));
  child.on("close", (code, signal) => {
    groups.delete(id);
    send({ type: "g-close", id, code, signal });
  });
}

function onGroupMessage(msg) {
  const child = groups.get(msg.id);
  if (!child) return;
  if (msg.type === "g-stdin" && child.stdin && child.stdin.writable) child.stdin.write(msg.data);
  else if (msg.type === "g-stdin-end" && child.stdin) child.stdin.destroy();
  else if (msg.type === "g-signal") signalGroup(child, msg.signal);
}

process.on("message", (msg) => {
  if (msg.type === "run") run(msg);
  else if (msg.type === "g-spawn") spawnGroup(msg);
  else if (msg.type.startsWith("g-")) onGroupMessage(msg);
  else if (msg.type === "kill") {
    const child = children.get(msg.id);
    if (!child) return;
    child.once("exit", () => {
      if (process.connected) process.send({ type: "gone", id: msg.id });
    });
    child.kill(msg.signal);
  }
});
// The parent is gone (exited or crashed): nobody will read the results, so end the children too.
process.on("disconnect", () => {
  killAll();
  process.exit(0);
});
process.on("SIGTERM", () => {
  killAll();
  process.exit(0);
});
// Ctrl-C reaches the whole process group; the parent may still need git while it shuts down
// gracefully, and it ends this helper itself (or by closing the channel).
process.on("SIGINT", () => {});
process.send({ type: "ready" });
`;
