import { createHash } from "node:crypto";
import type { RepoRef } from "./types.js";

const SAFE_SEGMENT = /^[A-Za-z0-9._-]+$/;

/** "ENG-42" → "agent/eng-42" (lowercase, safe chars) */
export function branchForIssue(identifier: string): string {
  const slug = identifier
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "");
  if (!slug) {
    throw new Error(`Cannot derive a branch name from issue identifier ${JSON.stringify(identifier)}`);
  }
  return `agent/${slug}`;
}

/** Rejects owner/name values that could escape the mirrors directory. */
export function assertRepoRef(repo: RepoRef): void {
  for (const [field, value] of [
    ["owner", repo.owner],
    ["name", repo.name],
  ] as const) {
    if (!SAFE_SEGMENT.test(value) || value === "." || value === "..") {
      throw new Error(
        `Invalid repository ${field} ${JSON.stringify(value)}: expected GitHub-style letters, digits, '.', '_' or '-'`,
      );
    }
  }
}

/** Rejects clone URLs that git cannot use safely; credentials must come from the token instead. */
export function assertCloneUrl(cloneUrl: string): void {
  if (!URL.canParse(cloneUrl)) {
    throw new Error(`Invalid clone URL ${JSON.stringify(cloneUrl)}: expected an absolute https:// URL`);
  }
  const url = new URL(cloneUrl);
  if (!["https:", "http:", "file:", "ssh:"].includes(url.protocol)) {
    throw new Error(
      `Unsupported clone URL scheme ${url.protocol} in ${url.host}${url.pathname}: use https://`,
    );
  }
  // git would persist the URL (with its userinfo) in the mirror's config.
  if (url.username || url.password) {
    throw new Error(
      `Clone URL for ${url.host}${url.pathname} contains credentials: pass the token separately and use a plain URL`,
    );
  }
}

/**
 * Rejects names git would refuse or misread as an option; a subset of check-ref-format that is
 * enough for the branches we create and the default branches we start from.
 */
export function assertBranchName(name: string, what: string): void {
  const problems =
    !/^[A-Za-z0-9._/-]+$/.test(name) ||
    /^[-./]|[/.]$|\.\.|\/\/|\/\.|\.lock$|\.lock\//.test(name) ||
    name === "HEAD";
  if (problems) {
    throw new Error(
      `Invalid ${what} ${JSON.stringify(name)}: use letters, digits, '.', '_', '-' and '/' in a valid git branch name`,
    );
  }
}

/** Turns a caller-supplied job key into a single safe directory name, unique per distinct key. */
export function sanitizeKey(key: string): string {
  const cleaned = key
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[-.]+/, "")
    .slice(0, 100);
  if (!cleaned) throw new Error(`Invalid worktree key ${JSON.stringify(key)}: it has no usable characters`);
  if (cleaned === key) return key;
  // Different keys can clean up to the same text; a hash of the original keeps them apart.
  const hash = createHash("sha256").update(key).digest("hex").slice(0, 8);
  return `${cleaned}-${hash}`;
}
