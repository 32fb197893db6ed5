// The dashboard's tasks as this server process last saw them, kept current from the task channel,
// so a live update renders the rows that changed instead of reading and rendering all of them.
// Each flush of changes gets a sequence number; the page remembers the one it was rendered at and
// its event stream replays what changed after it (or asks for a full refresh when it cannot tell).
import { randomBytes } from "node:crypto";
import type { Task } from "../tasks/task.js";
import { TASK_LIMIT } from "./view.js";

/** How many flushes the model remembers for replays: a minute at the fastest flush rate. */
const HISTORY = 600;

/** The view's tasks and today's spend, as read from Redis (see loadView). */
export interface ModelSource {
  all: readonly Task[];
  /** How many entries at the head of `all` are queued jobs without a task record. */
  fresh: number;
  todayUsd: number;
}

const byUpdateDesc = (a: Task, b: Task) =>
  a.updatedAt === b.updatedAt ? (a.issueId < b.issueId ? 1 : -1) : a.updatedAt < b.updatedAt ? 1 : -1;
const byCreatedDesc = (a: Task, b: Task) => b.createdAt.localeCompare(a.createdAt);

/** Tasks by issue, their table order, and the numbered history of which ones changed. */
export class LiveModel {
  /** Changes with every process: a sequence number of another process (or run) means nothing here. */
  readonly epoch = randomBytes(4).toString("hex");
  private seq = 0;
  private readonly tasks = new Map<string, Task>();
  private readonly json = new Map<string, string>();
  /** Queued jobs with no task record yet (loadView shows them first). */
  private readonly fresh = new Set<string>();
  private ordered: Task[] | null = null;
  private readonly history: Array<{ seq: number; ids: readonly string[] }> = [];
  todayUsd = 0;

  /** "epoch-seq": where the model stands; pages carry it and streams resume from it. */
  get position(): string {
    return `${this.epoch}-${this.seq}`;
  }

  /**
   * Replaces the model with a fresh read (queued jobs included, in loadView's order) and returns
   * the issues whose row may differ: new, gone or changed.
   */
  load(source: ModelSource): Set<string> {
    const changed = new Set<string>(this.tasks.keys());
    const records = new Set<string>();
    const wasFresh = new Set(this.fresh);
    this.fresh.clear();
    source.all.forEach((t, i) => {
      records.add(t.issueId);
      const known = this.tasks.get(t.issueId);
      // A record published while the read was on its way is newer than what the read returned.
      if (i >= source.fresh && known && !wasFresh.has(t.issueId) && known.updatedAt > t.updatedAt) {
        changed.delete(t.issueId);
        return;
      }
      if (i < source.fresh) this.fresh.add(t.issueId);
      const s = JSON.stringify(t);
      if (this.json.get(t.issueId) === s) changed.delete(t.issueId);
      else changed.add(t.issueId);
      this.tasks.set(t.issueId, t);
      this.json.set(t.issueId, s);
    });
    for (const id of [...this.tasks.keys()]) if (!records.has(id)) this.drop(id);
    this.todayUsd = source.todayUsd;
    this.ordered = null;
    return changed;
  }

  /**
   * Applies a record published on the task channel; returns the issues whose row changed (none
   * when the model already had it; an older one that fell out of the view's limit besides).
   */
  apply(task: Task): string[] {
    const s = JSON.stringify(task);
    const known = this.tasks.get(task.issueId);
    if (this.json.get(task.issueId) === s) return [];
    // Two writers' messages can arrive out of their clocks' order; the later update wins.
    if (known && !this.fresh.has(task.issueId) && known.updatedAt > task.updatedAt) return [];
    this.fresh.delete(task.issueId);
    this.tasks.set(task.issueId, task);
    this.json.set(task.issueId, s);
    this.ordered = null;
    return [task.issueId, ...this.trim()];
  }

  /** The tasks in the view's order: queued jobs without a record, then by last update. */
  all(): Task[] {
    if (this.ordered) return this.ordered;
    const fresh: Task[] = [];
    const records: Task[] = [];
    for (const t of this.tasks.values()) (this.fresh.has(t.issueId) ? fresh : records).push(t);
    this.ordered = [...fresh.sort(byCreatedDesc), ...records.sort(byUpdateDesc)];
    return this.ordered;
  }

  /** Numbers a flush of `ids` and returns its position. */
  commit(ids: Iterable<string>): string {
    this.seq += 1;
    this.history.push({ seq: this.seq, ids: [...ids] });
    if (this.history.length > HISTORY) this.history.shift();
    return this.position;
  }

  /** The issues changed after `since` (a position of this model), or null when it cannot tell. */
  changedSince(since: string): Set<string> | null {
    const m = /^([0-9a-f]+)-(\d+)$/.exec(since);
    if (!m || m[1] !== this.epoch) return null;
    const from = Number(m[2]);
    if (from > this.seq) return null;
    if (from === this.seq) return new Set();
    const oldest = this.history[0]?.seq ?? this.seq + 1;
    if (from + 1 < oldest) return null;
    const ids = new Set<string>();
    for (const h of this.history) if (h.seq > from) for (const id of h.ids) ids.add(id);
    return ids;
  }

  private drop(id: string): void {
    this.tasks.delete(id);
    this.json.delete(id);
    this.fresh.delete(id);
  }

  // The view covers the most recently updated TASK_LIMIT records, as loadView reads them.
  private trim(): string[] {
    let records = this.tasks.size - this.fresh.size;
    if (records <= TASK_LIMIT) return [];
    const dropped: string[] = [];
    for (const t of [...this.all()].reverse()) {
      if (records <= TASK_LIMIT) break;
      if (this.fresh.has(t.issueId)) continue;
      this.drop(t.issueId);
      dropped.push(t.issueId);
      records -= 1;
    }
    this.ordered = null;
    return dropped;
  }
}
