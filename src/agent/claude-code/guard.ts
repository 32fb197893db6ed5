import path from "node:path";
import type { HookCallback, HookJSONOutput } from "@anthropic-ai/claude-agent-sdk";

/** Said to the model when it tries to publish: the service does that, after the checks. */
export const PUSH_DENIED =
  "Denied by agent-workforce: only the service pushes. When you finish, it commits your changes, pushes the branch " +
  "and opens or updates the pull request. Do not push, change git remotes or credentials, or use gh; just end with your report.";

// Commands that publish or redirect where the service publishes. The sandbox already has no
// credentials and no route to GitHub; this says so to the model instead of letting it flail.
const PUBLISHING = [
  /\bgit\b[^\n;&|]*\s(push|send-pack|send-email|request-pull)\b/,
  /\bgit\b[^\n;&|]*\sremote\s+(add|set-url|rename|remove|rm|set-branches|set-head|prune|update)\b/,
  /\bgit\b[^\n;&|]*\sconfig\b[^\n;&|]*\b(remote\.|url\.|credential|pushurl|core\.sshcommand|core\.hookspath)/i,
  /\bgit\b[^\n;&|]*\scredential\b/,
  /(^|[\s;&|(`$])(gh|hub|glab)(\s|$)/,
];

/** Whether a shell command publishes (push, remote changes, gh) and must be denied. */
export function publishes(command: string): boolean {
  return PUBLISHING.some((re) => re.test(command));
}

const deny = (reason: string): HookJSONOutput => ({
  hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: reason },
});

/**
 * The PreToolUse hook: denies publishing commands, and file edits outside the worktree or inside
 * its .git (the jail confines them anyway; without a sandbox this is the only fence).
 */
export function preToolUseGuard(worktree: string): HookCallback {
  const root = path.resolve(worktree);
  return async (input) => {
    if (input.hook_event_name !== "PreToolUse") return {};
    const tool = input.tool_input as { command?: unknown; file_path?: unknown } | null;
    if (input.tool_name === "Bash" && typeof tool?.command === "string" && publishes(tool.command)) return deny(PUSH_DENIED);
    if ((input.tool_name === "Write" || input.tool_name === "Edit") && typeof tool?.file_path === "string") {
      const rel = path.relative(root, path.resolve(root, tool.file_path));
      if (rel.startsWith("..") || path.isAbsolute(rel)) return deny(`Denied by agent-workforce: ${tool.file_path} is outside the repository (${root}).`);
      if (rel === ".git" || rel.startsWith(`.git${path.sep}`)) return deny("Denied by agent-workforce: the .git directory belongs to the service.");
    }
    return {};
  };
}

/** The PostToolUse hook: after each tool, tells the model what is left of its turns and budget. */
export function limitsNoteHook(note: () => string): HookCallback {
  return async (input) => {
    if (input.hook_event_name !== "PostToolUse") return {};
    return { hookSpecificOutput: { hookEventName: "PostToolUse", additionalContext: note() } };
  };
}
