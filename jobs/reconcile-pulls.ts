import type { Redis } from "ioredis";
import type { GitHub } from "../src/github/octokit.js";
import type { Task } from "../src/tasks/task.js";
import type { PrClosedJobData, RepoRef } from "./queues.js";

/** The PRs of one repository whose merge or close the sweep must not miss. */
export interface WatchedRepo {
  repo: RepoRef;
  /** PR number → the task that owns it. */
  prs: Map<number, Task>;
}

/** A close GitHub reports that the task records never heard of. */
export interface MissedClose {
  task: Task;
  data: Omit<PrClosedJobData, "source">;
}

const PER_PAGE = 100;
// Both bounds of the walk are moved back by this much: our clock and GitHub's may disagree, and
// GitHub's list can show a close a moment after it happened. Re-reading a few minutes of closed
// PRs costs nothing: only watched PRs count, and a repair is keyed by the close, so it is added once.
const OVERLAP_MS = 10 * 60_000;

/**
 * Tasks whose pull request is not known to be merged or closed, by repository. Every such task is
 * watched, not only `pr-open` ones: a stopped or failed task's PR can be merged too, and the
 * webhook it missed would have recorded that.
 */
export function watchedRepos(tasks: Iterable<Task>): Map<string, WatchedRepo> {
  const out = new Map<string, WatchedRepo>();
  for (const task of tasks) {
    if (!task.repo || !task.prNumber || task.state === "merged" || task.state === "closed") continue;
    const key = repoKey(task.repo);
    const watched = out.get(key) ?? { repo: task.repo, prs: new Map<number, Task>() };
    watched.prs.set(task.prNumber, task);
    out.set(key, watched);
  }
  return out;
}

// Where each repository's high-water mark (GitHub's time of the last complete walk) is kept.
function pullMarksKey(prefix: string): string {
  return `${prefix}:reconcile:pulls-seen`;
}

/**
 * Finds the watched PRs of one repository that GitHub has closed, with one list call of closed PRs,
 * most recently updated first (a close updates a PR). It reads further pages only while they hold
 * PRs updated since the last walk of this repository, or since the oldest watched PR opened, and
 * then records GitHub's time of this walk as the next walk's mark.
 */
export async function findMissedCloses(
  p: { github: GitHub; redis: Redis; prefix: string; watched: WatchedRepo; signal?: AbortSignal },
): Promise<MissedClose[]> {
  const { repo, prs } = p.watched;
  const key = repoKey(repo);
  const since = walkFrom(await p.redis.hget(pullMarksKey(p.prefix), key), [...prs.values()]);
  const pending = new Map(prs);
  const found: MissedClose[] = [];
  let seenAt: string | null = null;
  for (let page = 1; ; page++) {
    const res = await p.github.rest.pulls.list({
      owner: repo.owner,
      repo: repo.name,
      state: "closed",
      sort: "updated",
      direction: "desc",
      per_page: PER_PAGE,
      page,
      request: { signal: p.signal },
    });
    seenAt ??= githubTime(res.headers.date);
    let reachedMark = false;
    for (const pr of res.data) {
      if (Date.parse(pr.updated_at) < since) {
        reachedMark = true;
        break;
      }
      const task = pending.get(pr.number);
      if (!task) continue;
      pending.delete(pr.number);
      found.push({
        task,
        data: {
          kind: "pr-closed",
          repo,
          prNumber: pr.number,
          merged: Boolean(pr.merged_at),
          headRef: pr.head.ref,
          htmlUrl: pr.html_url,
          closedAt: pr.closed_at ?? pr.updated_at,
          // The list does not say who merged or closed it; the closing note then names no one.
          closedBy: null,
        },
      });
    }
    if (reachedMark || res.data.length < PER_PAGE || pending.size === 0) break;
  }
  // Only a walk that completed moves the mark: one that failed part-way is repeated in full.
  if (seenAt) await p.redis.hset(pullMarksKey(p.prefix), key, seenAt);
  return found;
}

// A PR closes after it opens, so the oldest watched PR bounds the walk even on a repository's
// first walk, or its first after weeks without watched PRs; the mark bounds it in between.
function walkFrom(mark: string | null, tasks: Task[]): number {
  const opened = tasks.map((t) => (t.prOpenedAt ? Date.parse(t.prOpenedAt) : Number.NaN));
  const oldestOpened = opened.some(Number.isNaN) ? Number.NEGATIVE_INFINITY : Math.min(...opened);
  const marked = mark ? Date.parse(mark) : Number.NaN;
  return Math.max(Number.isNaN(marked) ? Number.NEGATIVE_INFINITY : marked, oldestOpened) - OVERLAP_MS;
}

// GitHub's own clock (the response's Date header), so the mark compares with GitHub's updated_at
// whatever our clock says. Without the header the mark stays where it was.
function githubTime(date: string | undefined): string | null {
  const ms = date ? Date.parse(date) : Number.NaN;
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function repoKey(repo: RepoRef): string {
  return `${repo.owner}/${repo.name}`.toLowerCase();
}
