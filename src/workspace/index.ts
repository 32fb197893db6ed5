export { runGit } from "./git.js";
export { branchForIssue } from "./names.js";
export type { RepoRef, WorkspaceOptions, Worktree } from "./types.js";
export { Workspace } from "./workspace.js";
