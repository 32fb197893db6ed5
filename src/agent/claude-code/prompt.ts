import { escapeData } from "../prompts.js";

/**
 * What the service's system prompt needs to say differently under Claude Code: its tools and
 * paths differ from the built-in runner's (which the shared prompt describes).
 */
export function runtimeNote(worktree: string): string {
  return `
Runtime notes (Claude Code): the repository is checked out at ${worktree}, your working directory;
wherever the text above says /repo it means that directory. Your tools are Read, Write, Edit,
Bash, Glob and Grep; give Write and Edit absolute paths inside ${worktree}. Pushing, git remotes
and gh are denied: the service commits, pushes and opens the pull request after you finish.`;
}

/**
 * The prompt of a later send() (e.g. check failures). Each send is a fresh Claude Code session,
 * never a resumed transcript, so it carries the original task and what happened since.
 */
export function followUpPrompt(p: { task: string; reports: string[]; files: string[]; message: string }): string {
  const reports = p.reports
    .filter((r) => r.trim())
    .map((r, i) => `<report n="${i + 1}">\n${escapeData(r)}\n</report>`)
    .join("\n");
  return `${p.task}

You already worked on this task earlier in this session; everything you did is in the repository.
${p.files.length ? `Files you changed so far: ${p.files.join(", ")}.\n` : ""}${reports ? `What you reported when you stopped:\n${reports}\n` : ""}
Now:
${p.message}`;
}

