import type { Redis } from "ioredis";
import { canTransition, newTask, TASK_SCHEMA_VERSION, type Task } from "./task.js";
import { migrateTaskRecords, type MigrationReport } from "./task-migrate.js";
import { readTaskRecord } from "./task-schema.js";

/** Raised when code asks for a move the state machine forbids; a bug, not an operator problem. */
export class TransitionError extends Error {}

/** Task records whose last seen text a store keeps (see TaskStore.seen): far more than run at once. */
const SEEN_RECORDS = 1_000;

/**
 * Task records in Redis: one JSON document per Linear issue, an index by last update for the
 * dashboard, and a PR → issue map so GitHub events can be recognised as "about an agent's PR".
 */
export class TaskStore {
  /**
   * The stored text of each task this process last read or wrote, most recent last. An update
   * starts its compare-and-set from it instead of reading the record first; if another process
   * wrote since, the script answers with the current text and the change is applied to that.
   */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  private key(issueId: string) {
    return `${this.prefix}:task:${issueId}`;
  }
  private prKey(owner: string, repo: string, pr: number) {
    return `${this.prefix}:task-pr:${owner.toLowerCase()}/${repo.toLowerCase()}#${pr}`;
  }
  private get indexKey() {
    return `${this.prefix}:tasks`;
  }
  /** Redis channel on which every new version of a task is published (dashboard live updates). */
  get channel() {
    return `${this.prefix}:task-events`;
  }

  /**
   * The task of an issue, or null. An older record is read as the current version (it is rewritten
   * on its next update, or at start-up); a newer or malformed one throws, naming the record.
   */
  async get(issueId: string): Promise<Task | null> {
    const key = this.key(issueId);
    const raw = await this.redis.get(key);
    if (!raw) return null;
    const { task } = readTaskRecord(key, raw);
    this.remember(issueId, raw);
    return task;
  }

  private remember(issueId: string, raw: string | null): void {
    this.seen.delete(issueId);
    if (raw === null) return;
    this.seen.set(issueId, raw);
    if (this.seen.size > SEEN_RECORDS) this.seen.delete(this.seen.keys().next().value as string);
  }

  /**
   * The tasks of `ids` that exist and can be read. An unreadable record (newer or malformed) is left
   * out rather than failing the whole list; start-up names each one (see migrateAll).
   */
  private async readMany(ids: string[]): Promise<Task[]> {
    const keys = ids.map((id) => this.key(id));
    const raws = await this.redis.mget(keys);
    const tasks: Task[] = [];
    raws.forEach((raw, i) => {
      if (raw === null) return;
      try {
        tasks.push(readTaskRecord(keys[i] as string, raw).task);
      } catch {
        // Named by the start-up scan and by any job that reads it with get().
      }
    });
    return tasks;
  }

  /** The task that owns a pull request, or null when the PR is not an agent's. */
  async findByPullRequest(owner: string, repo: string, pr: number): Promise<Task | null> {
    const issueId = await this.redis.get(this.prKey(owner, repo, pr));
    return issueId ? this.get(issueId) : null;
  }

  /** Tasks, most recently updated first. */
  async list(limit = 200): Promise<Task[]> {
    const ids = await this.redis.zrevrange(this.indexKey, 0, limit - 1);
    if (ids.length === 0) return [];
    return this.readMany(ids);
  }

  /**
   * Every task, most recently updated first, a page at a time: a sweep over thousands of tasks
   * holds one page in memory, not all of them. A task updated during the walk may be seen twice
   * or, having moved ahead of the cursor, not at all until the next walk. Unreadable records are
   * left out (see readMany).
   */
  async *pages(pageSize = 500): AsyncGenerator<Task[]> {
    for (let start = 0; ; start += pageSize) {
      const ids = await this.redis.zrevrange(this.indexKey, start, start + pageSize - 1);
      if (ids.length === 0) return;
      yield await this.readMany(ids);
      if (ids.length < pageSize) return;
    }
  }

  /** Returns the issue's task, creating it in `queued` when none exists. */
  async ensure(p: {
    issueId: string;
    identifier: string;
    title: string;
    issueUrl: string | null;
  }): Promise<Task> {
    const now = this.clock().toISOString();
    const fresh = newTask({ ...p, now });
    const text = JSON.stringify(fresh);
    const created = await this.redis.set(this.key(p.issueId), text, "NX");
    if (created === "OK") {
      this.remember(p.issueId, text);
      await this.redis.zadd(this.indexKey, Date.parse(now), p.issueId);
      await this.redis.publish(this.channel, JSON.stringify(fresh));
      return fresh;
    }
    return (await this.get(p.issueId)) as Task;
  }

  /**
   * Applies `change` atomically: compare-and-set on the whole document in a Lua script (WATCH would
   * be unsafe on a connection shared by concurrent jobs), retried on conflict. A change that moves
   * the state is checked against the state machine. A change that alters nothing (on a record of
   * this release's version) writes nothing: no new updatedAt, no event.
   */
  async update(issueId: string, change: (t: Task) => Partial<Task>): Promise<Task> {
    const key = this.key(issueId);
    const seen = this.seen.get(issueId);
    // Whether `raw` is what Redis held a moment ago, not a copy that may be stale.
    let fresh = seen === undefined;
    let raw = seen ?? (await this.redis.get(key));
    for (let attempt = 0; attempt < 50; attempt++) {
      if (raw === null) {
        this.remember(issueId, null);
        throw new Error(`no task for issue ${issueId}`);
      }
      const { task: current, from } = readTaskRecord(key, raw);
      const patch = change(current);
      if (patch.state && !canTransition(current.state, patch.state)) {
        throw new TransitionError(
          `task ${current.identifier}: ${current.state} → ${patch.state} is not allowed`,
        );
      }
      if (from === TASK_SCHEMA_VERSION && unchanged(current, patch)) {
        // Nothing to write, if the record is still what the change was computed on.
        const stored = fresh ? raw : await this.redis.get(key);
        if (stored === raw) {
          this.remember(issueId, raw);
          return current;
        }
        [raw, fresh] = [stored, true];
        continue;
      }
      const now = this.clock().toISOString();
      // Every write stamps this release's version: an older record read above is now migrated.
      const next: Task = { ...current, ...patch, schemaVersion: TASK_SCHEMA_VERSION, updatedAt: now };
      const prKey = this.prKeyOf(next);
      const text = JSON.stringify(next);
      const answer = await this.redis.eval(
        CAS_SCRIPT,
        4,
        key,
        this.indexKey,
        prKey || key,
        this.channel,
        raw,
        text,
        String(Date.parse(now)),
        issueId,
        // The PR map is written with the record that first names the PR; later writes keep it.
        prKey && prKey !== this.prKeyOf(current) ? "1" : "0",
      );
      if (answer === 1) {
        this.remember(issueId, text);
        return next;
      }
      // Another write came first: the script answered with the record as it is now.
      [raw, fresh] = [answer as string | null, true];
    }
    throw new Error(`task ${issueId} is being updated concurrently; giving up after 50 attempts`);
  }

  private prKeyOf(t: Task): string {
    return t.repo && t.prNumber ? this.prKey(t.repo.owner, t.repo.name, t.prNumber) : "";
  }

  /**
   * Start-up: reads every task record once, rewrites those of an older schema version in place
   * (atomically, so concurrent starts and live updates are never overwritten) and reports the rest.
   * Throws, naming them, when records were written by a newer release.
   */
  migrateAll(opts: { batch?: number } = {}): Promise<MigrationReport> {
    return migrateTaskRecords(this.redis, this.prefix, opts);
  }
}

/** Whether applying `patch` to `t` would leave every field as it is. */
function unchanged(t: Task, patch: Partial<Task>): boolean {
  const before = t as unknown as Record<string, unknown>;
  return Object.entries(patch).every(([k, v]) => JSON.stringify(v) === JSON.stringify(before[k]));
}

// Answers 1 when written, else the record as it is now (nil when there is none), so a retry
// needs no read of its own.
const CAS_SCRIPT = `
local current = redis.call("GET", KEYS[1])
if current ~= ARGV[1] then return current end
redis.call("SET", KEYS[1], ARGV[2])
redis.call("ZADD", KEYS[2], ARGV[3], ARGV[4])
if ARGV[5] == "1" then redis.call("SET", KEYS[3], ARGV[4]) end
redis.call("PUBLISH", KEYS[4], ARGV[2])
return 1
`;
