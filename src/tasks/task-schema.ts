import { z } from "zod";
import { type Migration, MalformedRecordError, parseStored, type SchemaHistory, type StoredRecord, upgradeRecord } from "./schema-version.js";
import { TASK_SCHEMA_VERSION, TASK_STATES, type Task } from "./task.js";

/**
 * Each step turns a record of the version it is keyed by into the next version.
 * 1 → 2: version 1 is every record written before versions existed (up to commit d995ca9); the
 * oldest of them, from before revision counts, lack `revisions`. Version 2 names its version.
 */
const TASK_MIGRATIONS: Readonly<Record<number, Migration>> = {
  1: (r) => ({ ...r, revisions: r.revisions ?? 0 }),
};

const TASK_HISTORY: SchemaHistory = { kind: "task record", current: TASK_SCHEMA_VERSION, migrations: TASK_MIGRATIONS };

const str = z.string();
const nstr = z.string().nullable();
const count = z.number().int().nonnegative();
const usage = z.looseObject({ input: z.number(), output: z.number(), cacheWrite: z.number(), cacheRead: z.number(), thinking: z.number().optional() });
// Optional parts: absent on records from before they existed, null once cleared.
const part = <S extends z.ZodType>(s: S) => s.nullish();

/**
 * What a current record must hold: every field code reads without checking, with its type. Nested
 * parts that code reads field by field are checked to their identifying fields; unknown fields
 * pass (an optional field added by a newer release of the same version is kept, not dropped).
 */
const TASK_RECORD = z.looseObject({
  schemaVersion: z.literal(TASK_SCHEMA_VERSION),
  issueId: str.min(1),
  identifier: str.min(1),
  title: str,
  issueUrl: nstr,
  teamId: nstr,
  repo: z.looseObject({ owner: str.min(1), name: str.min(1) }).nullable(),
  branch: nstr,
  baseBranch: nstr,
  prNumber: z.number().int().positive().nullable(),
  prUrl: nstr,
  state: z.enum(TASK_STATES as [Task["state"], ...Task["state"][]]),
  step: nstr,
  attempts: count,
  revisions: count,
  turns: count,
  usage,
  costUsd: z.number().nonnegative(),
  progressCommentId: nstr,
  handoff: nstr,
  checks: z.looseObject({ command: str, passed: z.boolean(), summary: str }).nullable(),
  error: nstr,
  jobId: nstr,
  createdAt: str,
  updatedAt: str,
  startedAt: nstr,
  prOpenedAt: nstr,
  finishedAt: nstr,
  landed: part(z.looseObject({ jobId: str, sha: str, summary: str })),
  unpushedSha: part(str),
  question: part(str),
  context: part(z.looseObject({ clearings: z.number(), compactions: z.number(), clearedTokens: z.number() })),
  turnStartedAt: part(str),
  session: part(z.looseObject({ id: str.min(1), organizationId: str })),
  sessionOpening: part(str),
  organizationId: part(str),
  sessionShown: part(z.looseObject({ sessionId: str })),
  repoQuestion: part(z.looseObject({ candidates: z.array(str), key: str })),
  repoChoice: part(z.looseObject({ repo: str, activityId: str })),
  triage: part(z.looseObject({ verdict: z.enum(["ready", "clarify", "split"]), criteria: z.array(str) })),
  clarification: part(z.looseObject({ questions: z.array(str), open: z.boolean(), answers: z.array(z.looseObject({ id: str })) })),
  plan: part(z.looseObject({ status: z.enum(["proposed", "creating", "created"]), subtasks: z.array(z.looseObject({ key: str })) })),
  parent: part(z.looseObject({ issueId: str.min(1), identifier: str, key: str })),
  transfer: part(z.looseObject({ tokens: z.number() })),
});

/** How errors name a record: its identifier when it has one, else its key. */
function subjectOf(key: string, record?: StoredRecord): string {
  const id = record?.identifier;
  return typeof id === "string" && id ? `task record ${id} (${key})` : `task record ${key}`;
}

/** A task record read from Redis: the task at the current version, and the version it was stored in. */
export interface ReadTask {
  task: Task;
  /** The version the stored text was written in; below TASK_SCHEMA_VERSION means it needs rewriting. */
  from: number;
}

/**
 * Reads the stored text of a task record (`key` names it in errors): migrates an older version step
 * by step, refuses a newer one (NewerSchemaError) and a malformed one (MalformedRecordError naming
 * the first bad field).
 */
export function readTaskRecord(key: string, raw: string): ReadTask {
  const stored = parseStored(subjectOf(key), raw);
  const subject = subjectOf(key, stored);
  const { record, from } = upgradeRecord(TASK_HISTORY, subject, stored);
  const checked = TASK_RECORD.safeParse(record);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const field = issue ? issue.path.map(String).join(".") : "";
    throw new MalformedRecordError(subject, field, issue?.message ?? "invalid", checked.error);
  }
  // The schema checked what code relies on; the record keeps its fields as stored.
  return { task: record as unknown as Task, from };
}
