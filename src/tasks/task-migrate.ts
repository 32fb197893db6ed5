import type { Redis } from "ioredis";
import { MalformedRecordError, NewerSchemaError } from "./schema-version.js";
import { TASK_SCHEMA_VERSION } from "./task.js";
import { readTaskRecord } from "./task-schema.js";
import { globLiteral } from "../redis.js";

/** What the start-up scan found: counts for the log, and each record it could not read. */
export interface MigrationReport {
  /** Task records read. */
  scanned: number;
  /** Rewritten from an older version to TASK_SCHEMA_VERSION, by the version they had. */
  migrated: Record<number, number>;
  /** Already current (or rewritten meanwhile by another process). */
  current: number;
  /**
   * Left as they were: deleted while being migrated, or changed by another writer on every attempt
   * (that writer's next update writes the current version).
   */
  skipped: Array<{ key: string; reason: string }>;
  /** Records whose shape is wrong: left as they are, named for the operator. */
  malformed: Array<{ key: string; error: string }>;
}

/** A migration gives up on a record another writer changes this often while it tries. */
const MAX_ATTEMPTS = 20;

// Sets the record only if it still holds what was read: a worker updating it meanwhile (or another
// process migrating it) wins, and the record is read again.
const REWRITE_SCRIPT = `
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
redis.call("SET", KEYS[1], ARGV[2])
return 1
`;


/**
 * Walks `<prefix>:task:*` with SCAN (`batch` keys a step, never KEYS), migrates each older record in
 * place with a compare-and-set and counts the rest. Records from a newer release are collected and
 * thrown together at the end as one NewerSchemaError-led error, so the operator sees all of them.
 */
export async function migrateTaskRecords(redis: Redis, prefix: string, opts: { batch?: number } = {}): Promise<MigrationReport> {
  const report: MigrationReport = { scanned: 0, migrated: {}, current: 0, skipped: [], malformed: [] };
  const newer: NewerSchemaError[] = [];
  const match = `${globLiteral(prefix)}:task:*`;
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", match, "COUNT", opts.batch ?? 500);
    cursor = next;
    if (keys.length === 0) continue;
    const raws = await redis.mget(keys);
    for (const [i, key] of keys.entries()) {
      const raw = raws[i];
      if (raw === null || raw === undefined) continue;
      report.scanned++;
      try {
        const outcome = await migrateOne(redis, key, raw);
        if (outcome === "current") report.current++;
        else if ("skipped" in outcome) report.skipped.push({ key, reason: outcome.skipped });
        else report.migrated[outcome.from] = (report.migrated[outcome.from] ?? 0) + 1;
      } catch (err) {
        if (err instanceof NewerSchemaError) newer.push(err);
        else if (err instanceof MalformedRecordError) report.malformed.push({ key, error: err.message });
        else throw err;
      }
    }
  } while (cursor !== "0");
  if (newer.length > 0) throw refusal(newer);
  return report;
}

type Outcome = "current" | { from: number } | { skipped: string };

/** Rewrites one record at the current version: the version it had, "current", or why it was left. */
async function migrateOne(redis: Redis, key: string, first: string): Promise<Outcome> {
  let raw: string | null = first;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const { task, from } = readTaskRecord(key, raw);
    if (from === TASK_SCHEMA_VERSION) return "current";
    const ok = await redis.eval(REWRITE_SCRIPT, 1, key, raw, JSON.stringify(task));
    if (ok === 1) return { from };
    raw = await redis.get(key);
    if (raw === null) return { skipped: "deleted while being migrated" };
  }
  // Its writer's next update writes it at the current version; until then it is read as current.
  return { skipped: `changed by another writer on each of ${MAX_ATTEMPTS} attempts; its next update migrates it` };
}

/** One error naming every newer record (the first few by name), led by the first one's message. */
function refusal(newer: NewerSchemaError[]): Error {
  const [first] = newer as [NewerSchemaError, ...NewerSchemaError[]];
  const others = newer.slice(1, 6).map((e) => e.subject);
  const more = newer.length > 6 ? ` and ${newer.length - 6} more` : "";
  const tail = others.length > 0 ? ` (also: ${others.join(", ")}${more})` : "";
  return new Error(`refusing to start: ${first.message}${tail}`, { cause: first });
}
