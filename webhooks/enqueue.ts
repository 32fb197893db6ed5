import type { JobsOptions } from "bullmq";
import { type QueueName, type Queues, safeJobId } from "../jobs/queues.js";
import { tickOptions } from "../jobs/tree/queue-tree.js";
import type { Intent } from "./intents.js";

/** Where and under which id an intent becomes a job. */
export interface JobPlan {
  queue: QueueName;
  name: string;
  jobId: string;
  opts: JobsOptions;
}

const stamp = (iso: string) => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : String(ms);
};

/**
 * Derives the job id from what the intent is about, so at-least-once delivery collapses into one
 * job: a redelivered event maps to the same id, and BullMQ ignores an add whose id exists.
 */
export function planJob(intent: Intent): JobPlan {
  switch (intent.kind) {
    case "implement": {
      const d = intent.data;
      return {
        queue: "implement",
        name: "implement",
        jobId: safeJobId("implement", d.issueId, stamp(d.eventAt)),
        // One implement job per issue while one waits or runs, even for distinct labelling events.
        // A label re-added while a run is being stopped is kept as the one run that follows it.
        opts: { deduplication: { id: safeJobId("implement", d.issueId), keepLastIfActive: true } },
      };
    }
    case "cancel": {
      const d = intent.data;
      return {
        queue: "lifecycle",
        name: "cancel",
        jobId: safeJobId("cancel", d.issueId, stamp(d.eventAt)),
        opts: {},
      };
    }
    case "feedback": {
      const d = intent.data;
      if (d.kind === "session-feedback") {
        return { queue: "feedback", name: "session-feedback", jobId: safeJobId("session-feedback", d.session.id, d.activityId), opts: {} };
      }
      return {
        queue: "feedback",
        name: "feedback",
        jobId: safeJobId("feedback", d.repo.owner, d.repo.name, d.prNumber, d.event, d.commentId),
        opts: {},
      };
    }
    case "pr-closed": {
      const d = intent.data;
      return {
        queue: "lifecycle",
        name: "pr-closed",
        jobId: safeJobId("pr-closed", d.repo.owner, d.repo.name, d.prNumber, stamp(d.closedAt)),
        opts: {},
      };
    }
    case "app-revoked": {
      const d = intent.data;
      return { queue: "lifecycle", name: "app-revoked", jobId: safeJobId("app-revoked", d.organizationId, stamp(d.revokedAt)), opts: {} };
    }
    case "linear-comment":
      // One job per comment, however often Linear delivers it.
      return { queue: "feedback", name: "linear-comment", jobId: safeJobId("linear-comment", intent.data.commentId), opts: {} };
    case "tree-tick": {
      // Coalesced with the parent's other Linear ticks (queueLinearTick); the id makes a
      // redelivered event a no-op while its tick is kept.
      const d = intent.data;
      return { queue: "lifecycle", name: "tick", jobId: safeJobId("tick-linear", d.parentIssueId, d.reason), opts: tickOptions(safeJobId("tick-linear", d.parentIssueId)) };
    }
  }
}

/**
 * Adds the intent's job. `merged` is true when a waiting or running job for the same subject
 * absorbed it (BullMQ deduplication answers with that job's id). An add whose job id already exists
 * is a no-op in BullMQ, which is what makes redelivery safe.
 */
export async function enqueueIntent(
  queues: Queues,
  intent: Intent,
  plan: JobPlan = planJob(intent),
): Promise<{ jobId: string; merged: boolean }> {
  // Each queue is typed by its own job data; the plan guarantees data and queue match.
  const queue = queues[plan.queue] as unknown as {
    add(name: string, data: unknown, opts: JobsOptions): Promise<{ id?: string }>;
  };
  // A new session must hear from us within 10 s even when every agent slot is busy: its
  // acknowledgement goes to a fast queue of its own, added with the job it acknowledges.
  const session = intent.kind === "implement" ? intent.data.session : undefined;
  const [job] = await Promise.all([
    queue.add(plan.name, intent.data, { ...plan.opts, jobId: plan.jobId }),
    session && intent.kind === "implement"
      ? queues.ack.add(
          "ack",
          { kind: "ack", issueId: intent.data.issueId, identifier: intent.data.identifier, title: intent.data.title, url: intent.data.url, session: { id: session.id, organizationId: session.organizationId, ...(session.createdAt ? { createdAt: session.createdAt } : {}) }, implementJobId: plan.jobId },
          { jobId: safeJobId("ack", session.id), attempts: 5, backoff: { type: "fixed", delay: 1_000 } },
        )
      : undefined,
  ]);
  const jobId = job.id ?? plan.jobId;
  return { jobId, merged: jobId !== plan.jobId };
}
