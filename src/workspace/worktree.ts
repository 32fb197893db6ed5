import { rm } from "node:fs/promises";
import type { Logger } from "pino";
import type { Git } from "./git.js";
import { unpushedRef } from "./checkout.js";
import { dropNestedRepos, mirrorGit, restoreMirror, restoreWorktree } from "./guard.js";
import { type Identity, identityArgs, pushBranch } from "./push.js";
import type { Worktree } from "./types.js";

/** What a worktree needs from the Workspace that created it. */
export interface WorktreeContext {
  git: Git;
  mirrorPath: string;
  cloneUrl: string;
  path: string;
  /** the mirror's worktrees/<name> that `git worktree add` made, read before the agent ran */
  adminDir: string;
  branch: string;
  baseBranch: string;
  resumed: boolean;
  unpushed: boolean;
  startSha: string;
  logger?: Logger;
  /** runs fn holding the repository lock */
  withLock: <T>(signal: AbortSignal | undefined, fn: () => Promise<T>) => Promise<T>;
  /** moves the finished tree aside for the next job (parked.ts); false when it must be deleted */
  park?: () => Promise<boolean>;
  /** called once the worktree is gone, so the path is no longer treated as in use */
  onRemoved: () => void;
}

const TRUNCATION_NOTE = "\n[diff truncated]\n";

/** A job's worktree: commit, push and inspect the agent's work, then remove it. */
export class GitWorktree implements Worktree {
  readonly path: string;
  readonly branch: string;
  readonly baseBranch: string;
  readonly resumed: boolean;
  readonly unpushed: boolean;
  readonly startSha: string;
  readonly gitPaths: { readonly mirror: string; readonly adminDir: string };
  private readonly ctx: WorktreeContext;
  /** runs every command in this worktree, after putting back what the agent may have changed */
  private readonly g: Git;
  /** the same, minus dropNestedRepos: for commands that read only refs and objects, never the files */
  private readonly refsOnly: Git;
  private readonly baseRef: string;
  private lastAuthor: Identity | undefined;
  private removal: Promise<void> | undefined;

  constructor(ctx: WorktreeContext) {
    this.ctx = ctx;
    this.path = ctx.path;
    this.branch = ctx.branch;
    this.baseBranch = ctx.baseBranch;
    this.resumed = ctx.resumed;
    this.unpushed = ctx.unpushed;
    this.startSha = ctx.startSha;
    this.gitPaths = { mirror: ctx.mirrorPath, adminDir: ctx.adminDir };
    // Fully qualified so a local branch literally named "origin/<base>" cannot shadow it.
    this.baseRef = `refs/remotes/origin/${ctx.baseBranch}`;
    // Explicit dirs: the worktree's `.git` file and the admin dir's `commondir` are the agent's to
    // edit, so git must not go by them. Every command here runs after the agent did, hence the guard.
    const repo = { gitDir: ctx.adminDir, commonDir: ctx.mirrorPath, workTree: ctx.path };
    const unguarded = ctx.git.at(repo);
    this.g = ctx.git.at(repo, async () => {
      await restoreMirror(ctx.mirrorPath, ctx.cloneUrl);
      await restoreWorktree(ctx);
      await dropNestedRepos(unguarded, ctx.path);
    });
    // A nested repository only matters to commands that look at the working tree (status, add,
    // commit, merge): git runs `status` inside checked-out submodules there. A ref update, a log
    // or a commit-to-commit diff never opens one, so it skips the `ls-files` that finds them.
    this.refsOnly = ctx.git.at(repo, async () => {
      await restoreMirror(ctx.mirrorPath, ctx.cloneUrl);
      await restoreWorktree(ctx);
    });
  }

  private git(args: string[], signal?: AbortSignal): Promise<string> {
    return this.g.run(args, { cwd: this.path, signal });
  }

  /** Runs a command that reads or writes only refs and objects (see refsOnly). */
  private refs(args: string[], signal?: AbortSignal): Promise<string> {
    return this.refsOnly.run(args, { cwd: this.path, signal });
  }

  /** Stages everything and commits as the given identity; null when there is nothing to commit. */
  async commitAll(p: { message: string; author: Identity; signal?: AbortSignal }): Promise<string | null> {
    if (!p.message.trim()) throw new Error("Cannot commit with an empty message: pass a commit message");
    await this.git(["add", "-A"], p.signal);
    const staged = await this.g.probe(["diff", "--cached", "--quiet", "--no-ext-diff"], {
      cwd: this.path,
      signal: p.signal,
    });
    if (staged.exitCode === 0) return null;
    if (staged.exitCode !== 1)
      throw this.g.failure(
        ["diff", "--cached", "--quiet", "--no-ext-diff"],
        { cwd: this.path },
        staged,
      );
    await this.git(
      [...identityArgs(p.author), "commit", "--quiet", "--no-verify", "-m", p.message],
      p.signal,
    );
    this.lastAuthor = p.author;
    const sha = (await this.refs(["rev-parse", "HEAD"], p.signal)).trim();
    // Kept until a push lands: a failed push, a crash or a removed worktree must not lose it.
    await this.refs(["update-ref", unpushedRef(this.branch), sha], p.signal);
    return sha;
  }

  /** Pushes HEAD to the branch, merging (never force-pushing) commits others added to it. */
  async push(p: { token?: string; signal?: AbortSignal }): Promise<{ sha: string; pushed: boolean }> {
    const result = await pushBranch({
      git: this.g,
      cwd: this.path,
      cloneUrl: this.ctx.cloneUrl,
      branch: this.branch,
      token: p.token,
      signal: p.signal,
      logger: this.ctx.logger,
      mergeIdentity: () => this.mergeIdentity(),
      withLock: (fn) => this.ctx.withLock(p.signal, fn),
    });
    await this.refs(["update-ref", "-d", unpushedRef(this.branch)]);
    return result;
  }

  /** The bot identity of the last commitAll, else the committer of HEAD. */
  private async mergeIdentity(): Promise<Identity> {
    if (this.lastAuthor) return this.lastAuthor;
    const [name = "", email = ""] = (await this.refs(["log", "-1", "--format=%cn%x00%ce", "HEAD"]))
      .trim()
      .split("\0");
    return { name, email };
  }

  /** `git diff origin/<base>...HEAD` (text), optionally capped in characters. */
  async diffAgainstBase(p: { maxChars?: number } = {}): Promise<string> {
    const args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", `${this.baseRef}...HEAD`];
    const max = p.maxChars;
    if (max === undefined) return this.refs(args);
    // A UTF-8 character is at most 4 bytes, so this buffer always holds maxChars characters.
    const call = { cwd: this.path, maxBuffer: max * 4 + 1024 };
    const outcome = await this.refsOnly.probe(args, call);
    if (outcome.exitCode !== 0) throw this.refsOnly.failure(args, call, outcome);
    const text = outcome.stdout;
    if (text.length <= max && !outcome.truncated) return text;
    if (max <= TRUNCATION_NOTE.length) return text.slice(0, max);
    return text.slice(0, max - TRUNCATION_NOTE.length) + TRUNCATION_NOTE;
  }

  /** Files changed relative to origin/<base> (name-only), committed changes only. */
  async changedFiles(): Promise<string[]> {
    const out = await this.refs(["diff", "--name-only", "-z", "--no-ext-diff", `${this.baseRef}...HEAD`]);
    return out.split("\0").filter(Boolean);
  }

  /** Commits on HEAD not on origin/<base>, oldest first. */
  async commitsAhead(): Promise<Array<{ sha: string; subject: string }>> {
    const out = await this.refs(["log", "--reverse", "--format=%H %s", `${this.baseRef}..HEAD`]);
    return out
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const space = line.indexOf(" ");
        return space < 0
          ? { sha: line, subject: "" }
          : { sha: line.slice(0, space), subject: line.slice(space + 1) };
      });
  }

  /** True if the working tree has uncommitted changes, untracked files included. */
  async isDirty(): Promise<boolean> {
    return (await this.git(["status", "--porcelain"])).trim().length > 0;
  }

  /** Deletes the worktree and its registration; safe to call twice, never throws. */
  remove(): Promise<void> {
    this.removal ??= this.doRemove();
    return this.removal;
  }

  private async doRemove(): Promise<void> {
    const log = this.ctx.logger;
    const parked = await this.ctx.park?.().catch((err: unknown) => {
      log?.warn({ err, worktree: this.path }, "could not park the worktree; deleting it");
      return false;
    });
    if (parked) {
      this.ctx.onRemoved();
      return;
    }
    const where = { cwd: this.ctx.mirrorPath };
    const mirror = mirrorGit(this.ctx.git, this.ctx.mirrorPath, this.ctx.cloneUrl);
    try {
      // `worktree remove` deletes the directory the admin dir's `gitdir` names: restore it first.
      await restoreWorktree(this.ctx);
      const out = await mirror.probe(["worktree", "remove", "--force", "--force", this.path], where);
      if (out.exitCode !== 0)
        log?.debug({ worktree: this.path, stderr: out.stderr }, "git worktree remove failed");
    } catch (err) {
      log?.warn({ err, worktree: this.path }, "git worktree remove could not run");
    }
    try {
      await rm(this.path, { recursive: true, force: true });
    } catch (err) {
      log?.warn({ err, worktree: this.path }, "could not delete worktree directory; delete it by hand");
    }
    try {
      // Drops the registration when `worktree remove` failed but the directory is now gone.
      await mirror.probe(["worktree", "prune"], where);
    } catch (err) {
      log?.warn({ err, worktree: this.path }, "git worktree prune could not run");
    }
    this.ctx.onRemoved();
  }
}
