import type { RepoRef } from "./types.js";
import type { Workspace } from "./workspace.js";

/** What triage sees of a repository: its file paths (no contents) and its conventions files. */
export interface RepoOutline {
  files: string[];
  /** True when `files` was cut at the cap. */
  truncated: boolean;
  conventions: Array<{ file: string; text: string }>;
}

/** Reads the file tree and conventions files of `baseBranch` from the worker's mirror (STUB). */
export async function repoOutline(_workspace: Workspace, _p: { repo: RepoRef; cloneUrl: string; baseBranch: string; token?: string; signal?: AbortSignal }): Promise<RepoOutline> {
  return { files: [], truncated: false, conventions: [] };
}
