import { randomUUID } from "node:crypto";
import { mkdir, open, readFile, rm, stat, utimes } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";

/** How long a lock file may go without a heartbeat before another process may break it. */
export const LOCK_STALE_MS = 2 * 60 * 1000;

// Module-wide so that several Workspace instances over the same dataDir still serialise.
const chains = new Map<string, Promise<void>>();
// Ids of lock files this process holds; a file naming our pid but none of these ids is left over
// from an earlier process that had the same pid (common for pid 1 in containers).
const heldIds = new Set<string>();

interface LockOwner {
  id?: string;
  pid?: number;
  host?: string;
}

/** The AbortError a workspace wait rejects with when the job is aborted. */
export function abortError(signal: AbortSignal, what: string): Error {
  const err = new Error(`Stopped waiting for ${what} because the job was aborted`, { cause: signal.reason });
  err.name = "AbortError";
  return err;
}

/** Serialises async work per key within this process. */
async function withProcessLock<T>(key: string, signal: AbortSignal | undefined, fn: () => Promise<T>) {
  const previous = chains.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = previous.then(() => new Promise<void>((resolve) => (release = resolve)));
  chains.set(key, mine);
  try {
    await waitFor(previous, signal, `the in-process lock on ${key}`);
    return await fn();
  } finally {
    // release is assigned once `previous` settles; if we were aborted before that, release then.
    void previous.then(() => release());
    void mine.then(() => {
      if (chains.get(key) === mine) chains.delete(key);
    });
  }
}

async function waitFor(promise: Promise<void>, signal: AbortSignal | undefined, what: string) {
  if (!signal) return promise;
  if (signal.aborted) throw abortError(signal, what);
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(signal, what));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readOwner(path: string): Promise<LockOwner> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as LockOwner;
  } catch {
    return {};
  }
}

/** Removes the lock file if its holder is gone; true when it did (or the file vanished). */
async function breakIfStale(path: string, staleMs: number, logger: Logger | undefined): Promise<boolean> {
  const before = await stat(path).catch(() => null);
  if (!before) return true;
  const owner = await readOwner(path);
  const age = Date.now() - before.mtimeMs;
  const sameHost = owner.host === hostname() && typeof owner.pid === "number";
  const deadHolder =
    sameHost && (owner.pid === process.pid ? !heldIds.has(owner.id ?? "") : !pidAlive(owner.pid as number));
  if (age < staleMs && !deadHolder) return false;
  // Re-check right before deleting so that a lock re-taken meanwhile is not removed.
  const again = await stat(path).catch(() => null);
  if (!again) return true;
  if (again.ino !== before.ino || again.mtimeMs !== before.mtimeMs) return false;
  logger?.warn({ lock: path, owner, ageMs: Math.round(age) }, "breaking stale workspace lock");
  await rm(path, { force: true });
  return true;
}

/** Holds an exclusive lock file for fn, guarding a directory shared by several processes. */
async function withFileLock<T>(
  path: string,
  opts: { maxWaitMs: number; staleMs: number; signal?: AbortSignal; logger?: Logger },
  fn: () => Promise<T>,
): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const id = randomUUID();
  const deadline = Date.now() + opts.maxWaitMs;
  let delay = 10;
  for (;;) {
    if (opts.signal?.aborted) throw abortError(opts.signal, `lock file ${path}`);
    try {
      const handle = await open(path, "wx");
      try {
        await handle.writeFile(JSON.stringify({ id, pid: process.pid, host: hostname(), since: new Date() }));
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new Error(`Cannot create lock file ${path}: check that the data directory is writable`, {
          cause: err,
        });
      }
    }
    if (await breakIfStale(path, opts.staleMs, opts.logger)) continue;
    if (Date.now() > deadline) {
      const owner = await readOwner(path);
      throw new Error(
        `Timed out after ${Math.round(opts.maxWaitMs / 1000)}s waiting for lock file ${path} held by pid ${owner.pid ?? "?"} on ${owner.host ?? "?"}: if no other worker uses this data directory, delete the file`,
      );
    }
    await sleep(delay * (0.5 + Math.random()), undefined, { signal: opts.signal }).catch(() => undefined);
    // Capped low: the holder in another worker is usually a fetch or a `worktree add` of tens of
    // milliseconds, and this process's own waiters retry at once, so a long sleep here loses the race.
    delay = Math.min(delay * 2, 100);
  }
  heldIds.add(id);
  // Keep the mtime fresh so a long clone is not mistaken for a crashed holder.
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, opts.staleMs / 4);
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    heldIds.delete(id);
    // Only delete the file if it is still ours; it may have been broken as stale and re-taken.
    if ((await readOwner(path)).id === id) await rm(path, { force: true });
  }
}

/** Runs fn while holding both the in-process lock and the lock file for one repository. */
export function withRepoLock<T>(
  lockPath: string,
  opts: { maxWaitMs: number; signal?: AbortSignal; logger?: Logger },
  fn: () => Promise<T>,
): Promise<T> {
  return withProcessLock(lockPath, opts.signal, () =>
    withFileLock(lockPath, { ...opts, staleMs: LOCK_STALE_MS }, fn),
  );
}
