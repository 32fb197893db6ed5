import { constants, type Dirent, existsSync } from "node:fs";
import { type FileHandle, lstat, mkdir, open, readdir, readlink, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { PathEscapeError } from "./paths.js";

/*
 * resolveInside checks a path, but the agent's background processes can swap a component for a
 * symlink before the editor uses it, pointing it at the worker's /proc/self/environ (all the
 * service's secrets) or anywhere else. So the editor never reads or writes by path: it walks from
 * the root one component at a time, each opened with O_NOFOLLOW relative to the directory opened
 * before it, and checks where the opened descriptor really is before touching the file.
 */

const { O_RDONLY, O_RDWR, O_WRONLY, O_CREAT, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;

// On Linux `/proc/self/fd/<fd>/<name>` looks `name` up inside the very directory the fd holds (an
// openat(2) in effect), and the link `/proc/self/fd/<fd>` names the file the fd holds. Without
// /proc (a macOS dev machine) the editor falls back to paths plus an inode comparison.
const PROC_FD = existsSync("/proc/self/fd") ? "/proc/self/fd" : undefined;

const DIRECTORY = O_RDONLY | O_DIRECTORY | O_NONBLOCK;
// O_NONBLOCK: a FIFO swapped in would otherwise block the open (and a libuv thread) forever.
// No O_TRUNC: the file is only emptied once it is proven to be inside the repository.
const FLAGS = {
  read: O_RDONLY | O_NONBLOCK,
  update: O_RDWR | O_NONBLOCK,
  create: O_WRONLY | O_CREAT | O_NONBLOCK,
} as const;

/** How the editor opens a file: read it (or list a directory), edit it in place, or create it. */
export type OpenMode = keyof typeof FLAGS;

/** A descriptor proven to be inside the repository, with the path it was reached by. */
export interface Opened {
  handle: FileHandle;
  path: string;
}

/**
 * Opens `target` (a resolveInside result under `rootReal`) without following any symbolic link,
 * creating missing parent directories in "create" mode, and proves the opened file is inside the
 * repository. `shown` is the path as the model sees it, for error messages. The caller closes it.
 */
export async function openInside(rootReal: string, target: string, shown: string, mode: OpenMode): Promise<Opened> {
  const rel = path.relative(rootReal, target);
  if (!isInside(rel)) throw changed(shown, "it is outside the repository");
  const parents = rel === "" ? [] : rel.split(path.sep);
  const name = parents.pop();
  if (name === undefined && mode !== "read") {
    throw Object.assign(new Error(`cannot open ${shown}: it is a directory (EISDIR)`), { code: "EISDIR" });
  }
  try {
    let dir = await openVerified(rootReal, rootReal, rootReal, DIRECTORY, shown);
    for (const segment of parents) {
      const parent = dir;
      try {
        dir = await openDirectory(rootReal, parent, segment, shown, mode === "create");
      } finally {
        await parent.handle.close();
      }
    }
    if (name === undefined) return dir;
    try {
      return await openVerified(rootReal, under(dir, name), path.join(dir.path, name), FLAGS[mode], shown);
    } finally {
      await dir.handle.close();
    }
  } catch (err) {
    throw explain(err, shown);
  }
}

/** Opens a subdirectory of an opened directory the same way, or undefined when it cannot be. */
export async function openSubdirectory(rootReal: string, dir: Opened, name: string): Promise<Opened | undefined> {
  const shown = path.join(dir.path, name);
  return openDirectory(rootReal, dir, name, shown, false).catch(() => undefined);
}

/** The entries of an opened directory, read through its descriptor rather than its path. */
export function readDirectory(dir: Opened): Promise<Dirent[]> {
  return readdir(PROC_FD ? `${PROC_FD}/${dir.handle.fd}` : dir.path, { withFileTypes: true });
}

/** Replaces the whole content of a file opened for "update" or "create". */
export async function overwrite(file: Opened, text: string): Promise<void> {
  const data = Buffer.from(text, "utf8");
  await file.handle.truncate(0);
  // Positional writes: after a read the file position is at the old end, not at 0.
  for (let done = 0; done < data.length; ) {
    const { bytesWritten } = await file.handle.write(data, done, data.length - done, done);
    done += bytesWritten;
  }
}

/**
 * Proves an opened descriptor is inside the repository and outside .git, by the path the kernel
 * has for it now (not the path it was opened by). Closes nothing; throws PathEscapeError.
 */
export async function verifyOpened(rootReal: string, file: Opened, shown: string): Promise<void> {
  // readlink, not realpath: the link holds the kernel's own path of the open file, while realpath
  // would resolve that path again, through components that can be swapped once more meanwhile.
  const real = PROC_FD ? await readlink(`${PROC_FD}/${file.handle.fd}`) : await realpath(file.path);
  const rel = path.relative(rootReal, real);
  if (!isInside(rel)) throw changed(shown, "it now leads outside the repository");
  if (rel.split(path.sep).some((s) => s.toLowerCase() === ".git")) throw changed(shown, "it now leads into .git");
  if (!PROC_FD) {
    // Without /proc the path may have changed since the open; the inode says what was opened.
    const [held, named] = await Promise.all([file.handle.stat(), stat(real)]);
    if (held.dev !== named.dev || held.ino !== named.ino) throw changed(shown, "it was replaced while opening");
  }
}

async function openDirectory(rootReal: string, parent: Opened, segment: string, shown: string, create: boolean) {
  const at = under(parent, segment);
  const logical = path.join(parent.path, segment);
  try {
    return await openVerified(rootReal, at, logical, DIRECTORY, shown);
  } catch (err) {
    if (!create || codeOf(err) !== "ENOENT") throw await symlinkOr(at, err);
  }
  // mkdir never follows a symlink at its last component (EEXIST), and the open re-checks it.
  await mkdir(at).catch((err: unknown) => {
    if (codeOf(err) !== "EEXIST") throw err;
  });
  return openVerified(rootReal, at, logical, DIRECTORY, shown).catch(async (err: unknown) => {
    throw await symlinkOr(at, err);
  });
}

// O_DIRECTORY|O_NOFOLLOW on a symlink fails with ENOTDIR; say what really happened (ELOOP).
async function symlinkOr(at: string, err: unknown): Promise<unknown> {
  if (codeOf(err) !== "ENOTDIR") return err;
  const link = await lstat(at).then((s) => s.isSymbolicLink(), () => false);
  return link ? Object.assign(new Error("symbolic link", { cause: err }), { code: "ELOOP" }) : err;
}

async function openVerified(rootReal: string, at: string, logical: string, flags: number, shown: string) {
  const handle = await open(at, flags | O_NOFOLLOW, 0o666);
  const file = { handle, path: logical };
  try {
    await verifyOpened(rootReal, file, shown);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return file;
}

function under(dir: Opened, name: string): string {
  return PROC_FD ? `${PROC_FD}/${dir.handle.fd}/${name}` : path.join(dir.path, name);
}

function isInside(rel: string): boolean {
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function changed(shown: string, why: string): PathEscapeError {
  return new PathEscapeError(
    `The path ${shown} changed while the editor was using it (${why}), so nothing was read or written. ` +
      "Do not replace files or directories with symbolic links while editing; use the real path inside /repo.",
  );
}

// fs errors name the /proc/self/fd path actually opened, which means nothing to the model.
function explain(err: unknown, shown: string): Error {
  if (err instanceof PathEscapeError) return err;
  const code = codeOf(err);
  if (code === "ELOOP") return changed(shown, "part of it is now a symbolic link");
  if (code === undefined) return err instanceof Error ? err : new Error(String(err));
  const what = err instanceof Error ? (/^\w+: ([^,]+)/.exec(err.message)?.[1] ?? code) : code;
  return Object.assign(new Error(`cannot open ${shown}: ${what} (${code})`, { cause: err }), { code });
}

function codeOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
