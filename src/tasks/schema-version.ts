// Versioned data in Redis (task records, job data): every writer stamps the version it wrote, and
// every reader brings what it reads up to its own version one step at a time, or refuses data
// written by a newer release instead of misreading it. Records from before versions existed carry
// no version field: they are version 1.

/** The field that names a record's schema version (task records and job data alike). */
export const VERSION_FIELD = "schemaVersion";

/** A plain JSON object as stored. */
export type StoredRecord = Record<string, unknown>;

/** One step: turns a record of version `n` (its key in the table) into one of version `n + 1`. */
export type Migration = (record: StoredRecord) => StoredRecord;

/** What a kind of versioned data knows: the version it writes and how to reach it from older ones. */
export interface SchemaHistory {
  /** "task record", "job data": the start of every error message. */
  kind: string;
  current: number;
  /** Keyed by the version a step starts from: `1` turns version 1 into version 2, and so on. */
  migrations: Readonly<Record<number, Migration>>;
}

/** Data written by a newer release than this one: reading it would misread it. */
export class NewerSchemaError extends Error {
  constructor(
    readonly subject: string,
    readonly version: number,
    readonly known: number,
  ) {
    super(
      `${subject} is schema version ${version}; this agent-workforce knows up to ${known}: ` +
        `upgrade every agent-workforce process to the release that wrote it (or a newer one), ` +
        `or restore the Redis data from before that release ran`,
    );
    this.name = "NewerSchemaError";
  }
}

/** Data whose shape is not what its version promises: one named field is missing or wrong. */
export class MalformedRecordError extends Error {
  constructor(
    readonly subject: string,
    readonly field: string,
    problem: string,
    cause?: unknown,
  ) {
    super(`${subject} is malformed: ${field ? `field "${field}"` : "the record"}: ${problem}; fix or delete it`, { cause });
    this.name = "MalformedRecordError";
  }
}

/** The version a record says it was written in; none means version 1 (written before versions existed). */
export function versionOf(subject: string, record: StoredRecord): number {
  const v = record[VERSION_FIELD];
  if (v === undefined) return 1;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new MalformedRecordError(subject, VERSION_FIELD, `expected a whole number from 1, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Brings `record` up to `history.current`, one migration at a time; `from` is the version it was
 * written in (equal to the current one: nothing changed). Throws NewerSchemaError for a newer record.
 */
export function upgradeRecord(history: SchemaHistory, subject: string, record: StoredRecord): { record: StoredRecord; from: number } {
  const from = versionOf(subject, record);
  if (from > history.current) throw new NewerSchemaError(subject, from, history.current);
  let out = record;
  for (let v = from; v < history.current; v++) {
    const step = history.migrations[v];
    // A gap in the table is a bug in this release, not a problem with the data.
    if (!step) throw new Error(`${history.kind}: no migration from schema version ${v} to ${v + 1}`);
    out = { ...step(out), [VERSION_FIELD]: v + 1 };
  }
  return { record: out, from };
}

/** Parses stored JSON text into an object, or says why it is not one. */
export function parseStored(subject: string, raw: string): StoredRecord {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new MalformedRecordError(subject, "", "not valid JSON", err);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MalformedRecordError(subject, "", `expected a JSON object, got ${Array.isArray(value) ? "an array" : typeof value}`);
  }
  return value as StoredRecord;
}
