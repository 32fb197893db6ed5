import { isActive, type Task, workspaceOf } from "../src/tasks/task.js";
import type { WorkerDeps } from "./job-context.js";
import type { AppRevokedJobData, CancelJobData } from "./queues.js";

/**
 * A workspace uninstalled the Linear OAuth app: its tokens are deleted first (Linear already
 * refuses them, and nothing may use them again), then every task of that workspace is stopped
 * through the ordinary cancel path (`stop`), which aborts a running agent in whichever process
 * runs it. Safe to run again: deleting twice and stopping a stopped task change nothing.
 */
export async function appRevoked(deps: WorkerDeps, data: AppRevokedJobData, stop: (c: CancelJobData) => Promise<string>): Promise<string> {
  const log = deps.logger.child({ lifecycle: "app-revoked", organizationId: data.organizationId });
  const others = (await deps.linearApp?.installations() ?? []).filter((i) => i.organizationId !== data.organizationId);
  await deps.linearApp?.revoke(data.organizationId);
  // A task records its workspace (its session's, or the label webhook's); an older one has none,
  // and belonged to this workspace when no other one is installed (it was the default).
  const ours = (t: Task) => {
    const org = workspaceOf(t);
    return org ? org === data.organizationId : others.length === 0;
  };
  const stopped: string[] = [];
  for await (const page of deps.tasks.pages()) {
    for (const task of page) {
      if (!ours(task) || !stoppable(task)) continue;
      const outcome = await stop({
        kind: "cancel",
        issueId: task.issueId,
        identifier: task.identifier,
        reason: "app-revoked",
        eventAt: data.revokedAt,
        source: { ...data.source, actor: null },
      });
      stopped.push(`${task.identifier}: ${outcome}`);
    }
  }
  log.info({ stopped }, "Linear app revoked: tokens deleted and the workspace's work stopped");
  return stopped.length ? `tokens deleted; stopped ${stopped.join("; ")}` : "tokens deleted; nothing was running";
}

// As the cancel path sees it: running or queued, or an open PR that review feedback would wake.
function stoppable(t: Task): boolean {
  return isActive(t.state) || t.state === "pr-open" || (t.state === "failed" && t.prNumber !== null);
}
