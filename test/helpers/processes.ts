// Waiting on processes in tests: polls with a deadline, and liveness that counts a zombie as dead.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

/** Polls `probe` every 20 ms until it returns a value; throws after `ms`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Running: a killed process whose parent died stays a zombie until init reaps it, which can take seconds. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** The pid a command wrote to `file`, once it has. */
export const pidIn = (file: string) => waitFor(`a pid in ${file}`, async () => Number((await readFile(file, "utf8").catch(() => "")).trim()) || undefined);
