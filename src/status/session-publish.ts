import type { LinearClient } from "@linear/sdk";
import { postActivity, updateSession } from "../linear/agent-sessions.js";
import type { SessionShown, Task } from "../tasks/task.js";
import type { TaskStore } from "../tasks/task-store.js";
import { type KeyedActivity, renderSession } from "./linear-session.js";

/**
 * Shows the task in its Linear agent session: posts only what changed since the last publish (the
 * plan, a thought, the checks, the push, the PR link, the closing activity), recording each on the
 * task as it lands so a retry or a later publish never repeats one. Callers pace it (see
 * agent-pass's throttle), which keeps one session inside Linear's rate limits.
 */
export async function publishSession(linear: LinearClient, p: { tasks: TaskStore; task: Task }): Promise<Task> {
  const session = p.task.session;
  if (!session) return p.task;
  const prior = p.task.sessionShown;
  const shown: SessionShown = prior?.sessionId === session.id ? { ...prior } : { sessionId: session.id };
  const view = renderSession({ ...p.task, sessionShown: shown });
  const before = JSON.stringify(shown);
  const post = async (field: "thought" | "checks" | "push" | "ended", a: KeyedActivity | null) => {
    if (!a || shown[field] === a.key) return;
    await postActivity(linear, { sessionId: session.id, key: a.key, content: a.content, ...(a.ephemeral ? { ephemeral: true } : {}), ...(a.signal ? { signal: a.signal, signalMetadata: a.signalMetadata } : {}) });
    shown[field] = a.key;
  };
  try {
    const plan = JSON.stringify(view.plan);
    if (shown.plan !== plan) {
      await updateSession(linear, { sessionId: session.id, plan: view.plan });
      shown.plan = plan;
    }
    await post("checks", view.checks);
    await post("push", view.push);
    if (view.pr && !shown.urls?.includes(view.pr.url)) {
      await updateSession(linear, { sessionId: session.id, addedExternalUrls: [view.pr] });
      shown.urls = [...(shown.urls ?? []), view.pr.url];
    }
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
