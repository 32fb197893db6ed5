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
// Requests carry the child's environment (which may hold a token header): it goes only over this
// pipe and is never printed here.

/** CommonJS source run by the helper; see the protocol above. */
export const SPAWNER_SOURCE = String.raw`
"use strict";
const { execFile } = require("node:child_process");
process.title = "agent-workforce-spawner";
const children = new Map();

function killAll() {
  for (const child of children.values()) child.kill();
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

process.on("message", (msg) => {
  if (msg.type === "run") run(msg);
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
