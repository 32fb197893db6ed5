import type { Redis } from "ioredis";
import { canTransition, newTask, TASK_SCHEMA_VERSION, type Task } from "./task.js";
import { migrateTaskRecords, type MigrationReport } from "./task-migrate.js";
import { readTaskRecord } from "./task-schema.js";

/** Raised when code asks for a move the state machine forbids; a bug, not an operator problem. */
export class TransitionError extends Error {}

/**
 * Task records in Redis: one JSON document per Linear issue, an index by last update for the
 * dashboard, and a PR → issue map so GitHub events can be recognised as "about an agent's PR".
 */
export class TaskStore {
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
    return raw ? readTaskRecord(key, raw).task : null;
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
    const created = await this.redis.set(this.key(p.issueId), JSON.stringify(fresh), "NX");
    if (created === "OK") {
      await this.redis.zadd(this.indexKey, Date.parse(now), p.issueId);
      await this.redis.publish(this.channel, JSON.stringify(fresh));
      return fresh;
    }
    return (await this.get(p.issueId)) as Task;
  }

  /**
   * Applies `change` atomically: compare-and-set on the whole document in a Lua script (WATCH would
   * be unsafe on a connection shared by concurrent jobs), retried on conflict. A change that moves
   * the state is checked against the state machine.
   */
  async update(issueId: string, change: (t: Task) => Partial<Task>): Promise<Task> {
    const key = this.key(issueId);
    for (let attempt = 0; attempt < 50; attempt++) {
      const raw = await this.redis.get(key);
      if (!raw) throw new Error(`no task for issue ${issueId}`);
      const current = readTaskRecord(key, raw).task;
      const patch = change(current);
      if (patch.state && !canTransition(current.state, patch.state)) {
        throw new TransitionError(
          `task ${current.identifier}: ${current.state} → ${patch.state} is not allowed`,
        );
      }
      const now = this.clock().toISOString();
      // Every write stamps this release's version: an older record read above is now migrated.
      const next: Task = { ...current, ...patch, schemaVersion: TASK_SCHEMA_VERSION, updatedAt: now };
      const prKey =
        next.repo && next.prNumber ? this.prKey(next.repo.owner, next.repo.name, next.prNumber) : "";
      const ok = await this.redis.eval(
        CAS_SCRIPT,
        4,
        key,
        this.indexKey,
        prKey || key,
        this.channel,
        raw,
        JSON.stringify(next),
        String(Date.parse(now)),
        issueId,
        prKey ? "1" : "0",
      );
      if (ok === 1) return next;
    }
    throw new Error(`task ${issueId} is being updated concurrently; giving up after 50 attempts`);
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

const CAS_SCRIPT = `
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
redis.call("SET", KEYS[1], ARGV[2])
redis.call("ZADD", KEYS[2], ARGV[3], ARGV[4])
if ARGV[5] == "1" then redis.call("SET", KEYS[3], ARGV[4]) end
redis.call("PUBLISH", KEYS[4], ARGV[2])
return 1
`;
