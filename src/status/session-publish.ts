import type { LinearClient } from "@linear/sdk";
import { type PlanStep, postActivity, updateSession } from "../linear/agent-sessions.js";
import type { SessionShown, Task } from "../tasks/task.js";
import type { TaskStore } from "../tasks/task-store.js";
import { isManagedParent, type KeyedActivity, renderSession } from "./linear-session.js";
import { childPhase, type RollupChild } from "./rollup.js";

type ExternalUrl = { label: string; url: string };

/**
 * The dashboard (at PUBLIC_URL) filtered to the task's repository, once it has one: the dashboard
 * has no page per task, and a session's URLs can only be added, so it waits for the repository.
 */
export function dashboardLink(publicUrl: string | undefined, task: Task): ExternalUrl | null {
  if (!publicUrl || !task.repo) return null;
  return { label: "Dashboard", url: `${publicUrl}/?repo=${encodeURIComponent(`${task.repo.owner}/${task.repo.name}`)}` };
}

/**
 * Shows the task in its Linear agent session: posts only what changed since the last publish (the
 * plan, a thought, the checks, the push, the PR link, the closing activity), recording each on the
 * task as it lands so a retry or a later publish never repeats one. Callers pace it (see
 * agent-pass's throttle), which keeps one session inside Linear's rate limits.
 */
export async function publishSession(linear: LinearClient, p: { tasks: TaskStore; task: Task; publicUrl?: string }): Promise<Task> {
  const session = p.task.session;
  if (!session) return p.task;
  const prior = p.task.sessionShown;
  const shown: SessionShown = prior?.sessionId === session.id ? { ...prior } : { sessionId: session.id };
  const view = renderSession({ ...p.task, sessionShown: shown }, await subIssues(p.tasks, p.task));
  const before = JSON.stringify(shown);
  const post = async (field: "thought" | "checks" | "push" | "ended", a: KeyedActivity | null) => {
    if (!a || shown[field] === a.key) return;
    await postActivity(linear, { sessionId: session.id, key: a.key, content: a.content, ...(a.ephemeral ? { ephemeral: true } : {}), ...(a.signal ? { signal: a.signal, signalMetadata: a.signalMetadata } : {}) });
    shown[field] = a.key;
  };
  // New external URLs ride along with a plan update when there is one: one request, not two.
  const urls = [view.pr, dashboardLink(p.publicUrl, p.task)].filter((u): u is ExternalUrl => u !== null && !shown.urls?.includes(u.url));
  const addUrls = async (plan?: PlanStep[]) => {
    await updateSession(linear, { sessionId: session.id, ...(plan ? { plan } : {}), ...(urls.length ? { addedExternalUrls: urls } : {}) });
    if (urls.length) shown.urls = [...(shown.urls ?? []), ...urls.map((u) => u.url)];
  };
  try {
    const plan = JSON.stringify(view.plan);
    if (shown.plan !== plan) {
      await addUrls(view.plan);
      shown.plan = plan;
    }
    await post("checks", view.checks);
    await post("push", view.push);
    if (urls.some((u) => !shown.urls?.includes(u.url))) await addUrls();
    await post("thought", view.thought);
    await post("ended", view.ended);
  } finally {
    if (JSON.stringify(shown) !== before) {
      // Only this field: the task may have moved meanwhile, and the record stays the source.
      p.task = await p.tasks.update(p.task.issueId, () => ({ sessionShown: shown }));
    }
  }
  return p.task;
}

/**
 * A managed parent's sub-issues with their tasks, for its session's progress and closing summary
 * (undefined for any other task). "Completed in Linear" is not read here: the parent's step (from
 * the tick) carries it while the tree runs, and once the parent is done every sub-issue finished.
 */
async function subIssues(tasks: TaskStore, task: Task): Promise<RollupChild[] | undefined> {
  if (!isManagedParent(task)) return undefined;
  return Promise.all(
    (task.plan?.subtasks ?? []).map(async (sub) => {
      const child = sub.issueId ? await tasks.get(sub.issueId) : null;
      return { sub, task: child, phase: childPhase(sub, child) };
    }),
  );
}
