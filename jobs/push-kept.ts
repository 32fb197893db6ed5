import type { RepoSettings } from "../src/routing/routing-config.js";
import type { Landed } from "../src/tasks/task.js";
import type { TaskContext } from "./job-context.js";
import { pushFailure } from "./keep-work.js";

/**
 * Pushes a commit that an earlier run finished but could not push (the remote refused it, say)
 * and that the mirror kept: the work is done, so it is pushed, not made again by the agent. The
 * checkpoint then records it as pushed. Null when this worker does not have the commit.
 */
export async function pushKeptWork(
  c: TaskContext,
  kept: Landed,
  p: { repo: RepoSettings; cloneUrl: string; branch: string; baseBranch: string; key: string },
): Promise<Landed | null> {
  const { deps, signal } = c;
  c.log.info({ sha: kept.sha }, "an earlier run's work was kept but not pushed; pushing it instead of running the agent again");
  await c.save({ step: "pushing the work an earlier run kept" });
  const worktree = await deps.workspace.createWorktree({ ...p, token: await deps.clients.github.gitToken({ owner: p.repo.owner, repo: p.repo.name }, { signal }), signal, resumeFrom: kept.sha });
  try {
    if (!worktree.unpushed) {
      // Kept on another worker's disk, or DATA_DIR was cleared: the agent must do it again.
      c.log.warn({ sha: kept.sha }, "the commit an earlier run could not push is not kept here; running the agent again");
      await c.save({ landed: null });
      return null;
    }
    const pushed = await worktree.push({ token: await deps.clients.github.gitToken({ owner: p.repo.owner, repo: p.repo.name }, { signal }), signal }).catch((err: Error) => {
      throw pushFailure(err);
    });
    const landed: Landed = { ...kept, sha: pushed.sha, jobId: p.key };
    delete landed.pushed;
    await c.save({ landed, unpushedSha: null });
    return landed;
  } finally {
    await worktree.remove();
  }
}
