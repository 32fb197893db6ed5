import { mkdir, readdir, realpath } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import { checkoutWorktree, populateWorktree } from "./checkout.js";
import { createGit, DEFAULT_GIT_TIMEOUT_MS, type Git } from "./git.js";
import { mirrorGit, restoreMirror } from "./guard.js";
import { withRepoLock } from "./lock.js";
import { mirrorLockPath, mirrorPathFor, syncMirror } from "./mirror.js";
import { type ClaimedTree, claimTree, DEFAULT_PARKED, dropClaim, parkTree, reuseParked } from "./parked.js";
import { BatchedHolds } from "./batched-holds.js";
import { assertBranchName, assertCloneUrl, assertRepoRef, sanitizeKey } from "./names.js";
import type { RepoRef, WorkspaceOptions, Worktree } from "./types.js";
import { GitWorktree } from "./worktree.js";

interface MirrorParams {
  repo: RepoRef;
  cloneUrl: string;
  token?: string;
  signal?: AbortSignal;
}

// Module-wide so two Workspace instances over one dataDir never delete each other's live worktrees.
const livePaths = new Set<string>();
// Module-wide like the lock: jobs of every Workspace instance over one mirror share one hold of its
// lock, with one fetch, while they queue for it.
const holds = new BatchedHolds();

/** Per-repository bare mirrors plus one git worktree per job, under one data directory. */
export class Workspace {
  private readonly dataDir: string;
  private readonly git: Git;
  private readonly logger: Logger | undefined;
  private readonly lockWaitMs: number;
  private readonly parkSettleMs: number | undefined;
  private readonly maxParked: number;
  private root: Promise<string> | undefined;

  constructor(opts: WorkspaceOptions) {
    if (!opts.dataDir.trim())
      throw new Error("Workspace needs a dataDir: set DATA_DIR to a writable directory");
    const timeoutMs = opts.gitTimeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
    this.dataDir = resolve(opts.dataDir);
    this.git = createGit(opts.baseEnv, timeoutMs);
    this.logger = opts.logger?.child({ component: "workspace" });
    // A lock holder may clone and then fetch, each up to the timeout.
    this.lockWaitMs = 3 * timeoutMs;
    this.parkSettleMs = opts.parkSettleMs;
    this.maxParked = opts.maxParked ?? DEFAULT_PARKED;
  }

  /** The data directory with symlinks resolved, so paths compare equal to what git reports. */
  private rootDir(): Promise<string> {
    this.root ??= (async () => {
      await mkdir(this.dataDir, { recursive: true });
      return realpath(this.dataDir);
    })().catch((err: unknown) => {
      this.root = undefined;
      throw new Error(`Cannot create data directory ${this.dataDir}: check DATA_DIR and its permissions`, {
        cause: err,
      });
    });
    return this.root;
  }

  private lock<T>(mirrorPath: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return withRepoLock(
      mirrorLockPath(mirrorPath),
      { maxWaitMs: this.lockWaitMs, signal, logger: this.logger },
      fn,
    );
  }

  /**
   * Runs work in the next hold of the mirror's lock, after the clone or fetch that hold starts
   * with (see BatchedHolds); the caller stops waiting on its own signal.
   */
  private inHold<T>(p: MirrorParams, mirrorPath: string, work: () => Promise<T>): Promise<T> {
    return holds.run(
      `${mirrorPath}\0${p.cloneUrl}`,
      {
        signal: p.signal,
        what: `the fetch of ${p.cloneUrl}`,
        hold: (signal, body) => this.lock(mirrorPath, signal, body),
        // The first caller's token serves all: they are jobs on one repository, so one installation.
        before: (signal) =>
          syncMirror({
            git: this.git,
            mirrorPath,
            cloneUrl: p.cloneUrl,
            token: p.token,
            signal,
            logger: this.logger?.child({ repo: `${p.repo.owner}/${p.repo.name}` }),
          }).then(() => undefined),
      },
      work,
    );
  }

  /** The git runner (environment, timeout) this workspace uses, for read-only commands on its mirrors. */
  gitRunner(): Git {
    return this.git;
  }

  /** clone once, then fetch; returns the mirror path */
  async ensureMirror(p: MirrorParams): Promise<string> {
    assertRepoRef(p.repo);
    assertCloneUrl(p.cloneUrl);
    const mirrorPath = mirrorPathFor(await this.rootDir(), p.repo);
    await this.inHold(p, mirrorPath, async () => undefined);
    return mirrorPath;
  }

  /** fetches, then creates a fresh worktree for the job */
  async createWorktree(
    p: MirrorParams & { key: string; branch: string; baseBranch: string; resumeFrom?: string | null },
  ): Promise<Worktree> {
    assertRepoRef(p.repo);
    assertCloneUrl(p.cloneUrl);
    assertBranchName(p.branch, "agent branch");
    assertBranchName(p.baseBranch, "base branch");
    if (p.branch === p.baseBranch) {
      throw new Error(
        `Agent branch and base branch are both ${p.branch}: the agent must work on its own branch`,
      );
    }
    const root = await this.rootDir();
    const mirrorPath = mirrorPathFor(root, p.repo);
    const path = join(root, "worktrees", sanitizeKey(p.key));
    if (livePaths.has(path)) {
      throw new Error(
        `Worktree key ${p.key} is already in use by a running job at ${path}: use a unique key per job`,
      );
    }
    livePaths.add(path);
    const logger = this.logger?.child({ repo: `${p.repo.owner}/${p.repo.name}`, branch: p.branch });
    try {
      const t0 = performance.now();
      await mkdir(join(root, "worktrees"), { recursive: true });
      // While the job waits for its fetch: a parked tree to fill it from, looked over already.
      const claim = this.claimParked(mirrorPath, logger);
      // In the hold, after its fetch: the refs read were fetched after this job asked, and
      // `worktree add` never overlaps a fetch (git writes the new HEAD before it names a commit).
      const started = await this.inHold(p, mirrorPath, () =>
        checkoutWorktree({
          git: mirrorGit(this.git, mirrorPath, p.cloneUrl),
          mirrorPath,
          path,
          branch: p.branch,
          baseBranch: p.baseBranch,
          cloneUrl: p.cloneUrl,
          livePaths,
          resumeFrom: p.resumeFrom,
          signal: p.signal,
          logger,
        }),
      ).catch(async (err: unknown) => {
        const claimed = await claim;
        if (claimed) await dropClaim(claimed).catch(() => undefined);
        throw err;
      });
      const t2 = performance.now();
      const worktree = new GitWorktree({
        git: this.git,
        mirrorPath,
        cloneUrl: p.cloneUrl,
        path,
        branch: p.branch,
        baseBranch: p.baseBranch,
        ...started,
        logger,
        withLock: (signal, fn) => this.lock(mirrorPath, signal, fn),
        park: () => parkTree({ mirrorPath, path, adminDir: started.adminDir, max: this.maxParked }),
        onRemoved: () => livePaths.delete(path),
      });
      const fill = { mirrorPath, path, adminDir: started.adminDir, commit: started.startSha, signal: p.signal, logger };
      const reused = await this.fill(fill, p.cloneUrl, claim).catch(async (err: unknown) => {
        await worktree.remove();
        throw err;
      });
      // Where setup time goes: waiting for and holding the lock (fetch, `worktree add`), the files.
      const ms = { locked: Math.round(t2 - t0), files: Math.round(performance.now() - t2) };
      logger?.info({ worktree: path, reused, ms, ...started }, "created worktree");
      return worktree;
    } catch (err) {
      livePaths.delete(path);
      throw err;
    }
  }

  /**
   * Writes a registered worktree's files: from a parked tree when one is usable (`claim`, or one
   * that settled since), else every file. True when a parked tree was reused.
   */
  private async fill(
    f: { mirrorPath: string; path: string; adminDir: string; commit: string; signal?: AbortSignal; logger?: Logger },
    cloneUrl: string,
    claim: Promise<ClaimedTree | null>,
  ): Promise<boolean> {
    // No agent has run here yet, but another job's agent may have rewritten the shared config.
    const repoDirs = { gitDir: f.adminDir, commonDir: f.mirrorPath, workTree: f.path };
    const git = this.git.at(repoDirs, () => restoreMirror(f.mirrorPath, cloneUrl));
    const claimed = (await claim) ?? (await this.claimParked(f.mirrorPath, f.logger));
    if (claimed && (await reuseParked({ ...f, git }, claimed))) return true;
    await populateWorktree(git, f.path, f.signal);
    return false;
  }

  /**
   * A settled parked tree of the mirror, claimed for a new worktree; null when none, on error, or
   * with parking off (trees parked before then stay where they are: the operator may distrust them).
   */
  private claimParked(mirrorPath: string, logger: Logger | undefined): Promise<ClaimedTree | null> {
    if (this.maxParked <= 0) return Promise.resolve(null);
    return claimTree(mirrorPath, this.parkSettleMs).catch((err: unknown) => {
      logger?.warn({ err }, "could not take a parked worktree; writing every file");
      return null;
    });
  }

  /** paths of worktrees currently on disk, for cleanup/diagnostics */
  async listWorktrees(): Promise<string[]> {
    const dir = join(await this.rootDir(), "worktrees");
    const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [];
      throw new Error(`Cannot list worktrees in ${dir}: check the data directory's permissions`, {
        cause: err,
      });
    });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name))
      .sort();
  }
}
