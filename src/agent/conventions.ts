import { realpath } from "node:fs/promises";
import path from "node:path";
import { openInside } from "./tools/editor-fs.js";

const FILES = ["AGENTS.md", "CLAUDE.md", "CONTRIBUTING.md", ".github/CONTRIBUTING.md", "README.md"];
const PER_FILE = 8_000;
const TOTAL = 24_000;

/**
 * The repository's own guidance for contributors, capped so it cannot crowd out the task. Read by
 * the worker outside the sandbox from files an agent may have committed, so like the editor it
 * follows no symbolic link and reads only regular files inside the worktree: `AGENTS.md ->
 * /proc/self/environ` must not put the worker's secrets into the prompt.
 */
export async function readConventions(worktree: string): Promise<Array<{ file: string; text: string }>> {
  const out: Array<{ file: string; text: string }> = [];
  const root = await realpath(worktree);
  let budget = TOTAL;
  for (const file of FILES) {
    if (budget <= 0) break;
    const text = await readRegularFile(root, file);
    if (text === null) continue;
    const limit = Math.min(PER_FILE, budget);
    const clipped = text.length > limit ? `${text.slice(0, limit)}\n[... truncated ...]` : text;
    budget -= clipped.length;
    out.push({ file, text: clipped });
  }
  return out;
}

async function readRegularFile(root: string, file: string): Promise<string | null> {
  const opened = await openInside(root, path.join(root, file), file, "read").catch(() => null);
  if (!opened) return null;
  try {
    const stat = await opened.handle.stat();
    // Capped read: a huge or endless file must not stall the worker.
    if (!stat.isFile()) return null;
    const { buffer, bytesRead } = await opened.handle.read({ buffer: Buffer.alloc(PER_FILE * 4), position: 0 });
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await opened.handle.close();
  }
}
