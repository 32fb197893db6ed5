import { lstat, readlink, realpath } from "node:fs/promises";
import path from "node:path";

/** The repository location the model is told about in the system prompt. */
export const REPO_ALIAS = "/repo";

// Bounds symlink chains (loops, or absurdly long chains) the way the kernel's ELOOP does.
const MAX_SYMLINK_HOPS = 40;

/** A model-supplied path that would leave the repository or touch git internals. */
export class PathEscapeError extends Error {
  override name = "PathEscapeError";
}

/** Resolves a model-supplied path inside root; refuses absolute paths outside root, `..` escapes, and symlinks (anywhere along the path, including the final component and dangling ones) that lead outside root. */
export async function resolveInside(root: string, requested: string): Promise<string> {
  if (typeof requested !== "string" || requested.trim() === "") {
    throw new PathEscapeError(`A non-empty path is required; use paths inside ${REPO_ALIAS}.`);
  }
  if (requested.includes("\0")) {
    throw new PathEscapeError(`Path ${JSON.stringify(requested)} contains a NUL byte.`);
  }
  const rootReal = await realpath(root);
  const lexical = mapToRoot(root, rootReal, requested);
  if (lexical === undefined) throw outside(requested);
  return walk(rootReal, lexical, requested, 0);
}

/** Renders an absolute path inside root as the model sees it, e.g. `/repo/src/a.ts`. */
export function displayPath(rootReal: string, absolute: string): string {
  const rel = path.relative(rootReal, absolute);
  return rel === "" ? REPO_ALIAS : `${REPO_ALIAS}/${rel.split(path.sep).join("/")}`;
}

/** The repo-relative form of an absolute path inside root (`.` for the root itself). */
export function repoRelative(rootReal: string, absolute: string): string {
  const rel = path.relative(rootReal, absolute);
  return rel === "" ? "." : rel.split(path.sep).join("/");
}

// Lexically places the request under rootReal, or returns undefined when it is clearly outside.
function mapToRoot(root: string, rootReal: string, requested: string): string | undefined {
  if (requested === REPO_ALIAS || requested.startsWith(`${REPO_ALIAS}/`)) {
    return within(rootReal, path.resolve(rootReal, `.${requested.slice(REPO_ALIAS.length)}`));
  }
  if (!path.isAbsolute(requested)) return within(rootReal, path.resolve(rootReal, requested));
  const absolute = path.resolve(requested);
  // The caller's root may itself sit behind a symlink (macOS /tmp), so accept either spelling.
  for (const base of [rootReal, path.resolve(root)]) {
    const rel = relativeInside(base, absolute);
    if (rel !== undefined) return path.join(rootReal, rel);
  }
  return undefined;
}

function within(rootReal: string, candidate: string): string | undefined {
  return relativeInside(rootReal, candidate) === undefined ? undefined : candidate;
}

function relativeInside(base: string, candidate: string): string | undefined {
  const rel = path.relative(base, candidate);
  if (rel === "") return "";
  if (rel === ".." || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return undefined;
  return rel;
}

// Follows the path one component at a time so every symlink, dangling or not, is judged by its target.
async function walk(rootReal: string, candidate: string, requested: string, hops: number): Promise<string> {
  const rel = relativeInside(rootReal, candidate);
  if (rel === undefined) throw outside(requested, hops > 0);
  const segments = rel === "" ? [] : rel.split(path.sep);
  if (segments.some((s) => s.toLowerCase() === ".git")) throw gitInternals(requested);
  let current = rootReal;
  for (const [i, segment] of segments.entries()) {
    const next = path.join(current, segment);
    const stats = await lstatOrUndefined(next);
    // Nothing below a missing entry can be a symlink, so the rest is a plain new path.
    if (stats === undefined) return path.join(next, ...segments.slice(i + 1));
    if (stats.isSymbolicLink()) {
      if (hops >= MAX_SYMLINK_HOPS) {
        throw new PathEscapeError(`Path "${requested}" has too many levels of symbolic links.`);
      }
      const target = path.resolve(current, await readlink(next));
      return walk(rootReal, path.join(target, ...segments.slice(i + 1)), requested, hops + 1);
    }
    current = next;
  }
  return current;
}

async function lstatOrUndefined(p: string) {
  try {
    return await lstat(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new Error(`Cannot inspect ${p}`, { cause: err });
  }
}

function outside(requested: string, viaSymlink = false): PathEscapeError {
  const how = viaSymlink
    ? "leads through a symbolic link to outside the repository"
    : "is outside the repository";
  return new PathEscapeError(`Path "${requested}" ${how}; use paths inside ${REPO_ALIAS}.`);
}

function gitInternals(requested: string): PathEscapeError {
  return new PathEscapeError(
    `Path "${requested}" is inside .git; the editor does not read or write git internals.`,
  );
}
