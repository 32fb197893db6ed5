import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import type * as ClaudeAgentSdkModule from "@anthropic-ai/claude-agent-sdk";

/** The exact version package.json pins; the SDK and its `claude` binary are released together almost daily. */
export const CLAUDE_AGENT_SDK_VERSION = "0.3.335";

const PACKAGE = "@anthropic-ai/claude-agent-sdk";

/** The part of the SDK the runner uses. */
export type ClaudeAgentSdk = Pick<typeof ClaudeAgentSdkModule, "query">;

/** The loaded SDK and the `claude` binary of this platform. */
export interface LoadedClaudeCode {
  sdk: ClaudeAgentSdk;
  executable: string;
}

const INSTALL_HINT =
  `AGENT_RUNTIME=claude-code needs the optional package ${PACKAGE}@${CLAUDE_AGENT_SDK_VERSION} ` +
  "(proprietary, © Anthropic PBC, installed by the operator and never shipped with agent-workforce): " +
  `run npm install (without --omit=optional), or npm install --no-save ${PACKAGE}@${CLAUDE_AGENT_SDK_VERSION}`;

/**
 * Loads the SDK only when the runtime is chosen (it is an optional dependency of ~400 MB), and
 * finds its native binary now, so a missing package fails start-up with what to do rather than
 * the first job.
 */
export async function loadClaudeCode(): Promise<LoadedClaudeCode> {
  let sdk: ClaudeAgentSdk;
  try {
    sdk = await import(PACKAGE);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") throw new Error(INSTALL_HINT, { cause: err });
    throw err;
  }
  const executable = findExecutable();
  if (!executable) {
    throw new Error(`${INSTALL_HINT}; its binary package for ${process.platform}-${process.arch} is missing`);
  }
  return { sdk, executable };
}

// The SDK's own lookup: one platform package per OS, CPU and libc, each holding one `claude`.
function findExecutable(): string | null {
  const require = createRequire(import.meta.url);
  const base = `${PACKAGE}-${process.platform}-${process.arch}`;
  const suffix = process.platform === "win32" ? ".exe" : "";
  for (const pkg of process.platform === "linux" ? [base, `${base}-musl`] : [base]) {
    try {
      const file = require.resolve(`${pkg}/claude${suffix}`);
      if (existsSync(file)) return file;
    } catch {
      // not installed for this variant
    }
  }
  return null;
}
