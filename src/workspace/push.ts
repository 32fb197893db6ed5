import type { Logger } from "pino";
import { resolveCommit } from "./checkout.js";
import type { Git } from "./git.js";

/** A commit identity for git's -c user.name/user.email. */
export interface Identity {
  name: string;
  email: string;
}

/** -c flags committing as the given identity, never signing (no key on the worker). */
export function identityArgs(who: Identity): string[] {
  return ["-c", `user.name=${who.name}`, "-c", `user.email=${who.email}`, "-c", "commit.gpgSign=false"];
}

interface PushParams {
  git: Git;
  cwd: string;
  cloneUrl: string;
  branch: string;
  token?: string;
  signal?: AbortSignal;
  logger?: Logger;
  /** who signs the merge commit when the remote branch moved */
  mergeIdentity: () => Promise<Identity>;
  /** runs fn holding the repository lock; fetches update refs shared by all worktrees */
  withLock: <T>(fn: () => Promise<T>) => Promise<T>;
}

type Attempt = { ok: true; pushed: boolean } | { ok: false; error: Error };

async function pushOnce(p: PushParams, sha: string): Promise<Attempt> {
  // The real URL, not `origin`: origin's push URL is disabled for the agent's sake.
  const args = ["push", "--porcelain", "--no-verify", p.cloneUrl, `${sha}:refs/heads/${p.branch}`];
  const call = { cwd: p.cwd, token: p.token, tokenUrl: p.cloneUrl, signal: p.signal };
  const outcome = await p.git.probe(args, call);
  if (outcome.exitCode !== 0) return { ok: false, error: p.git.failure(args, call, outcome) };
  // Porcelain flag "=" means the ref was already up to date.
  const upToDate = outcome.stdout.split("\n").some((line) => line.startsWith("=\t"));
  return { ok: true, pushed: !upToDate };
}

async function fetchRemoteBranch(p: PushParams): Promise<string | null> {
  const ref = `refs/remotes/origin/${p.branch}`;
  // The real URL rather than `origin`, whose URL lives in config the agent can edit.
  const args = ["fetch", "--quiet", p.cloneUrl, `+refs/heads/${p.branch}:${ref}`];
  const call = { cwd: p.cwd, token: p.token, tokenUrl: p.cloneUrl, signal: p.signal };
  const outcome = await p.withLock(() => p.git.probe(args, call));
  // A missing remote branch is not an error here: the push failed for some other reason.
  if (outcome.exitCode !== 0) return null;
  return resolveCommit(p.git, p.cwd, ref);
}

/** Merges the remote branch into HEAD; aborts and explains when the changes conflict. */
async function mergeRemote(p: PushParams): Promise<void> {
  const who = await p.mergeIdentity();
  const message = `Merge remote-tracking branch 'origin/${p.branch}' into ${p.branch}`;
  const args = [
    ...identityArgs(who),
    "merge",
    "--no-edit",
    "--quiet",
    "-m",
    message,
    `refs/remotes/origin/${p.branch}`,
  ];
  const call = { cwd: p.cwd, signal: p.signal };
  const outcome = await p.git.probe(args, call);
  if (outcome.exitCode === 0) return;
  const conflicted = await p.git
    .run(["diff", "--name-only", "--diff-filter=U"], { cwd: p.cwd })
    .then((out) => out.split("\n").filter(Boolean))
    .catch(() => [] as string[]);
  await p.git.probe(["merge", "--abort"], { cwd: p.cwd });
  if (conflicted.length === 0) {
    throw p.git.failure(args, call, outcome, `Could not merge new commits from the remote ${p.branch}.`);
  }
  throw new Error(
    `Cannot push ${p.branch}: someone pushed commits to it that conflict with the agent's changes in ${conflicted.join(", ")}. Resolve the conflict on the branch by hand, then re-run the job.`,
    { cause: p.git.failure(args, call, outcome) },
  );
}

/**
 * Pushes HEAD to refs/heads/<branch> without ever force-pushing. When the remote branch moved
 * (a human added commits to the PR), their commits are merged in and the push is retried once.
 */
export async function pushBranch(p: PushParams): Promise<{ sha: string; pushed: boolean }> {
  const head = async () => (await p.git.run(["rev-parse", "HEAD"], { cwd: p.cwd })).trim();
  const sha = await head();
  const first = await pushOnce(p, sha);
  if (first.ok) return { sha, pushed: first.pushed };

  const remoteSha = await fetchRemoteBranch(p);
  const ancestor =
    remoteSha !== null &&
    (await p.git.probe(["merge-base", "--is-ancestor", remoteSha, sha], { cwd: p.cwd })).exitCode === 0;
  // Not a non-fast-forward rejection: merging would not help, so report what git said.
  if (remoteSha === null || ancestor) throw first.error;

  p.logger?.info({ branch: p.branch, remoteSha }, "remote branch moved; merging before push");
  await mergeRemote(p);
  const merged = await head();
  const second = await pushOnce(p, merged);
  if (second.ok) return { sha: merged, pushed: second.pushed };
  throw new Error(
    `Pushing ${p.branch} failed again after merging the remote's new commits; the branch may be changing quickly or protected. Re-run the job.`,
    { cause: second.error },
  );
}
