import { readFile } from "node:fs/promises";
import path from "node:path";

const FILES = ["AGENTS.md", "CLAUDE.md", "CONTRIBUTING.md", ".github/CONTRIBUTING.md", "README.md"];
const PER_FILE = 8_000;
const TOTAL = 24_000;

/** The repository's own guidance for contributors, capped so it cannot crowd out the task. */
export async function readConventions(worktree: string): Promise<Array<{ file: string; text: string }>> {
  const out: Array<{ file: string; text: string }> = [];
  let budget = TOTAL;
  for (const file of FILES) {
    if (budget <= 0) break;
    let text: string;
    try {
      text = await readFile(path.join(worktree, file), "utf8");
    } catch {
      continue;
    }
    const limit = Math.min(PER_FILE, budget);
    const clipped = text.length > limit ? `${text.slice(0, limit)}\n[... truncated ...]` : text;
    budget -= clipped.length;
    out.push({ file, text: clipped });
  }
  return out;
}
