import { describe, expect, it } from "vitest";
import { PUSH_DENIED, preToolUseGuard, publishes } from "../../../src/agent/claude-code/guard.js";

describe("the claude-code guard", () => {
  it("denies commands that publish or redirect publishing", () => {
    for (const c of [
      "git push",
      "git push origin HEAD:main",
      "cd sub && git -C .. push --force",
      "git remote add evil https://example.com/x.git",
      "git remote set-url origin https://example.com/x.git",
      "git config remote.origin.url https://example.com/x.git",
      "git config --global url.https://x/.insteadOf https://github.com/",
      "git credential fill",
      "gh pr create --fill",
      "echo ok; gh auth status",
      "hub pull-request",
    ]) expect(publishes(c), c).toBe(true);
  });

  it("lets ordinary work through, reading remotes included", () => {
    for (const c of ["git status", "git diff", "git log --oneline", "git remote -v", "git remote", "npm test", "grep -r push src", "echo 'gh' > notes.txt"])
      expect(publishes(c), c).toBe(false);
  });

  it("answers a denial the way Claude Code's PreToolUse hooks do, and confines Write/Edit to the worktree", async () => {
    const guard = preToolUseGuard("/work/repo");
    const ask = (tool_name: string, tool_input: unknown) =>
      guard({ hook_event_name: "PreToolUse", tool_name, tool_input, tool_use_id: "t", session_id: "s", transcript_path: "", cwd: "/work/repo" }, "t", { signal: new AbortController().signal });
    expect(await ask("Bash", { command: "git push" })).toEqual({
      hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: PUSH_DENIED },
    });
    expect(await ask("Bash", { command: "git status" })).toEqual({});
    expect(await ask("Write", { file_path: "/work/repo/src/a.ts", content: "" })).toEqual({});
    expect(JSON.stringify(await ask("Write", { file_path: "/etc/passwd", content: "" }))).toContain("outside the repository");
    expect(JSON.stringify(await ask("Edit", { file_path: "/work/repo/../other/a.ts" }))).toContain("outside the repository");
    expect(JSON.stringify(await ask("Edit", { file_path: "/work/repo/.git/config" }))).toContain(".git directory");
  });
});
