import type { Dirent } from "node:fs";
import path from "node:path";
import { type Opened, openInside, openSubdirectory, readDirectory } from "./editor-fs.js";
import { numberLinesCapped, readTextFile, splitLines } from "./editor-text.js";
import { displayPath } from "./paths.js";
import { fail, ok, type ToolResult } from "./result.js";

// Directory trees hide these because they are noise the model should not page through.
const SKIPPED_DIRS = new Set(["node_modules"]);

/** Implements `view`: a numbered file (optionally a line range) or a two-level directory listing. */
export async function viewPath(
  rootReal: string,
  target: string,
  viewRange: unknown,
  maxCharacters: number,
): Promise<ToolResult> {
  const shown = displayPath(rootReal, target);
  // Everything is read through a descriptor proven to be inside the repository, never by path.
  const opened = await openInside(rootReal, target, shown, "read");
  try {
    return await viewOpened(rootReal, opened, shown, viewRange, maxCharacters);
  } finally {
    await opened.handle.close();
  }
}

async function viewOpened(
  rootReal: string,
  opened: Opened,
  shown: string,
  viewRange: unknown,
  maxCharacters: number,
): Promise<ToolResult> {
  if ((await opened.handle.stat()).isDirectory()) {
    if (viewRange !== undefined && viewRange !== null) {
      return fail("The `view_range` parameter is not allowed when `path` points to a directory.");
    }
    return ok(await listDirectory(rootReal, opened, shown, maxCharacters));
  }
  const text = await readTextFile(opened.handle, shown);
  if (typeof text !== "string") return fail(text.error);
  const { lines } = splitLines(text);
  const range = parseRange(viewRange, lines.length);
  if (typeof range === "string") return fail(range);
  const [start, end] = range ?? [1, lines.length];
  const body = numberLinesCapped(lines.slice(start - 1, end), start, maxCharacters);
  return ok(`Here's the result of running \`cat -n\` on ${shown}:\n${body}\n`);
}

// Returns [start, end] 1-based inclusive, undefined for the whole file, or an error message.
function parseRange(raw: unknown, lineCount: number): [number, number] | undefined | string {
  if (raw === undefined || raw === null) return undefined;
  const nums = Array.isArray(raw) ? raw.map((v) => (typeof v === "string" ? Number(v) : v)) : [];
  const [start, end] = nums;
  if (nums.length !== 2 || !Number.isInteger(start) || !Number.isInteger(end)) {
    return "Invalid `view_range`. It should be a list of two integers, e.g. [1, 40]; use -1 as the end to read to the end of the file.";
  }
  const first = start as number;
  const last = end as number;
  if (first < 1 || first > Math.max(lineCount, 1)) {
    return `Invalid \`view_range\`: [${first}, ${last}]. Its first element \`${first}\` should be within the range of lines of the file: [1, ${lineCount}]`;
  }
  if (last !== -1 && last < first) {
    return `Invalid \`view_range\`: [${first}, ${last}]. Its second element \`${last}\` should be larger or equal than its first \`${first}\``;
  }
  // Reading past the end is harmless, so clamp instead of costing the model a retry.
  return [first, last === -1 ? lineCount : Math.min(last, lineCount)];
}

async function listDirectory(rootReal: string, dir: Opened, shown: string, maxCharacters: number) {
  const entries: string[] = [shown];
  for (const child of await visibleEntries(dir)) {
    const childPath = path.join(dir.path, child.name);
    entries.push(
      child.isDirectory() ? `${displayPath(rootReal, childPath)}/` : displayPath(rootReal, childPath),
    );
    if (!child.isDirectory()) continue;
    // Opened like any other path: a subdirectory swapped for a symlink is not followed out.
    const sub = await openSubdirectory(rootReal, dir, child.name);
    if (!sub) continue;
    try {
      for (const grandchild of await visibleEntries(sub)) {
        const p = displayPath(rootReal, path.join(childPath, grandchild.name));
        entries.push(grandchild.isDirectory() ? `${p}/` : p);
      }
    } finally {
      await sub.handle.close();
    }
  }
  const header = `Here's the files and directories up to 2 levels deep in ${shown}, excluding hidden items and node_modules:\n`;
  let body = entries.join("\n");
  if (body.length > maxCharacters) {
    const kept = body.slice(0, maxCharacters);
    const keptEntries = kept.slice(0, Math.max(kept.lastIndexOf("\n"), 0));
    const omitted = entries.length - keptEntries.split("\n").length;
    body = `${keptEntries}\n<response clipped: ${omitted} more entries not shown; view a subdirectory to narrow down.>`;
  }
  return `${header}${body}\n`;
}

async function visibleEntries(dir: Opened): Promise<Dirent[]> {
  let entries: Dirent[];
  try {
    entries = await readDirectory(dir);
  } catch {
    // An unreadable subdirectory should not sink the whole listing.
    return [];
  }
  return entries
    .filter((e) => !e.name.startsWith(".") && !(e.isDirectory() && SKIPPED_DIRS.has(e.name)))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
