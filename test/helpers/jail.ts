import os from "node:os";
import { type Jail, unsandboxed } from "../../src/sandbox/sandbox.js";

/** An unisolated jail for unit tests of the agent loop that are not about the sandbox. */
export function plainJail(dir: string, env: Record<string, string> = { PATH: "/usr/local/bin:/usr/bin:/bin" }): Jail {
  return unsandboxed.jail({ worktree: dir, home: dir, tmp: os.tmpdir() }, env);
}
