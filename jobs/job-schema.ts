import { type Job, type Processor, Queue, UnrecoverableError } from "bullmq";
import { type Migration, type SchemaHistory, type StoredRecord, upgradeRecord, VERSION_FIELD } from "../src/tasks/schema-version.js";

/**
 * The job data schema version this release writes into every job it adds. Raise it, with a
 * migration below, when a job's data changes so that older data would be misread (a field renamed,
 * removed, re-typed or made required); jobs already queued at an upgrade are migrated when they run.
 */
export const JOB_DATA_VERSION = 2;

/**
 * 1 → 2: version 1 is every job added before versions existed (up to commit d995ca9), including
 * jobs still queued at the upgrade; its fields are read as they are. Version 2 names its version.
 */
const JOB_MIGRATIONS: Readonly<Record<number, Migration>> = {
  1: (d) => d,
};

const JOB_HISTORY: SchemaHistory = { kind: "job data", current: JOB_DATA_VERSION, migrations: JOB_MIGRATIONS };

/** Job data as this release writes it: the data and its version. */
export function stampJobData<T>(data: T): T {
  if (typeof data !== "object" || data === null) return data;
  return { ...data, [VERSION_FIELD]: JOB_DATA_VERSION };
}

/**
 * Brings `job.data` up to JOB_DATA_VERSION in memory before a processor reads it. Data from a
 * newer release (or not an object) can never be processed by this one: an UnrecoverableError
 * fails the job at once, naming the job and the version, instead of retrying it.
 */
export function upgradeJobData(job: Pick<Job, "id" | "queueName" | "data">): void {
  const subject = `job data of ${job.queueName} job ${job.id ?? "(no id)"}`;
  const data: unknown = job.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new UnrecoverableError(`${subject} is malformed: expected an object, got ${JSON.stringify(data)}`);
  }
  try {
    job.data = upgradeRecord(JOB_HISTORY, subject, data as StoredRecord).record;
  } catch (err) {
    // Newer or malformed: no retry of this release can read it.
    throw new UnrecoverableError(err instanceof Error ? err.message : String(err));
  }
}

/** A processor that upgrades each job's data first (see upgradeJobData); for queues without the agent skeleton. */
export function versionedProcessor<D, R>(processor: Processor<D, R>): Processor<D, R> {
  return (job, token, signal) => {
    upgradeJobData(job);
    return processor(job, token, signal);
  };
}

/**
 * A Queue whose every job carries JOB_DATA_VERSION. `addJob` is BullMQ's documented hook for
 * subclasses (every `add` goes through it); bulk adds and scheduler templates are stamped too.
 */
export class VersionedQueue<T> extends Queue<T> {
  protected override addJob(...[name, data, opts]: Parameters<Queue<T>["add"]>) {
    return super.addJob(name, stampJobData(data), opts);
  }

  override addBulk(jobs: Parameters<Queue<T>["addBulk"]>[0]) {
    return super.addBulk(jobs.map((j) => ({ ...j, data: stampJobData(j.data) })));
  }

  override upsertJobScheduler(...[id, repeat, template]: Parameters<Queue<T>["upsertJobScheduler"]>) {
    return super.upsertJobScheduler(id, repeat, template ? { ...template, data: stampJobData(template.data) } : template);
  }
}
