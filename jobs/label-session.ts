import type { LinearApp } from "../src/linear/oauth/app-auth.js";
import { openIssueSession } from "../src/linear/agent-sessions.js";
import { workspaceOf } from "../src/tasks/task.js";
import { isLinearRefusal } from "./failures.js";
import type { TaskContext } from "./job-context.js";

/**
 * The label path and the session path are one product: with the Linear app installed in the
 * issue's workspace, a label-triggered task opens its own agent session, which from then on is its
 * status surface (the progress comment is not used). Called before any status write of the job.
 *
 * Idempotent through the task record: a task that has a session (a retry of this job, a later
 * attempt, or a delegation) keeps it, so the create runs once per task. The one gap: Linear takes
 * no client-chosen session id and its schema offers no query of an issue's sessions (only the
 * [Internal] `Issue.agentSessions`), so if the create succeeds and recording its id fails, the
 * retry opens a second session and the first stays empty.
 *
 * With an API key (no app) nothing changes: a personal key has no agent sessions.
 */
export async function openLabelSession(c: TaskContext): Promise<void> {
  const app = c.deps.linearApp;
  const task = c.task();
  if (!app || task.session) return;
  const organizationId = await installedWorkspace(app, workspaceOf(task));
  if (!organizationId) return;
  let id: string;
  // Recorded before the create: Linear's `created` echo of this session may beat its answer (see ack).
  const openedAt = new Date().toISOString();
  await c.save({ sessionOpening: openedAt });
  try {
    id = await openIssueSession(c.linear, { issueId: task.issueId });
  } catch (err) {
    await c.save({ sessionOpening: null });
    // A refusal (the app cannot see the team, say) must not stop the work: it shows in the
    // progress comment instead. An outage or a rate limit is retried with the job.
    if (!isLinearRefusal((err as Error).cause)) throw err;
    c.log.warn({ err }, "Linear refused an agent session for the labelled issue; its status goes to the progress comment");
    return;
  }
  await c.save({ session: { id, organizationId, openedBy: "label", createdAt: openedAt }, sessionOpening: null });
  c.log.info({ session: id }, "opened a Linear agent session for the labelled issue");
}

// The workspace the task's calls go to, if the app is installed there: the label webhook's, else
// the only installation (a task from before workspaces were recorded).
async function installedWorkspace(app: LinearApp, organizationId: string | undefined): Promise<string | null> {
  const installed = await app.installations();
  if (organizationId) return installed.some((i) => i.organizationId === organizationId) ? organizationId : null;
  return installed.length === 1 ? (installed[0]?.organizationId ?? null) : null;
}
