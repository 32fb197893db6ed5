// Turns task-channel messages into page deltas: changes gather for FLUSH_MS (a burst of updates,
// even many to one task, becomes one delta), then each filter's delta is rendered once and sent to
// every page with that filter. A periodic re-read catches what the channel does not carry (queued
// jobs, today's spend) and any drift.
import type { Logger } from "../logger.js";
import type { Task } from "../tasks/task.js";
import { sseEvent } from "./sse.js";
import { type TaskFilter } from "./filters.js";
import { buildFrame, type Frame, NOTHING_SHOWN, rowsFor, type Shown } from "./live-delta.js";
import { LiveModel, type ModelSource } from "./live-model.js";

/** How long changes gather before a delta goes out: at most 10 deltas a second per page. */
export const FLUSH_MS = 100;

export interface FeedOptions {
  /** Reads the view from Redis (loadTasks). */
  load: () => Promise<ModelSource>;
  /** Today's spend (the spend figure moves without a task event saying so). */
  spend: () => Promise<number>;
  dailyBudgetUsd: number | undefined;
  logger: Logger;
  /** How often the model is re-read while pages are open (tests shorten it). */
  reloadMs?: number;
}

/** Writes one flush to the pages: `render(filter, key)` gives the event for a filter, memoised. */
export type PageSender = (render: (filter: TaskFilter, key: string) => string) => void;

/** The delta event: an SSE `id:` line, so a reconnecting EventSource resumes after it (Last-Event-ID). */
export function deltaEvent(position: string, frame: Frame, filter: TaskFilter): string {
  return `id: ${position}\n${sseEvent("delta", JSON.stringify({ seq: position, ...frame.shared, rows: rowsFor(frame, filter) }))}`;
}

/** The live model, its flushes and its replays. */
export class LiveFeed {
  readonly model = new LiveModel();
  private pending = new Set<string>();
  private last: Shown = NOTHING_SHOWN();
  private loaded: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private reloader: NodeJS.Timeout | null = null;
  private flushing = false;
  private closed = false;

  constructor(
    private readonly o: FeedOptions,
    private readonly send: PageSender,
    private readonly hasPages: () => boolean,
  ) {}

  /** Loads the model the first time (call after subscribing, so no change falls in between). */
  ready(): Promise<void> {
    if (!this.loaded) {
      this.loaded = this.o.load().then(
        (src) => {
          this.model.load(src);
          this.startReloads();
        },
        (err: unknown) => {
          this.loaded = null;
          throw err;
        },
      );
    }
    return this.loaded;
  }

  /** A record from the task channel. */
  onMessage(message: string): void {
    if (!this.loaded) return;
    let task: Task;
    try {
      task = JSON.parse(message) as Task;
    } catch {
      return;
    }
    if (typeof task?.issueId !== "string") return;
    for (const id of this.model.apply(task)) this.pending.add(id);
    this.schedule();
  }

  /**
   * What a page rendered at `since` (or resuming after it) needs: the rows changed after it with
   * every figure and the whole "Needs you", then `hello`; or `resync` (the page reloads its live
   * region) when this process cannot tell what changed.
   */
  replay(filter: TaskFilter, since: string): string {
    const position = this.model.position;
    const hello = sseEvent("hello", JSON.stringify({ seq: position }));
    const ids = this.model.changedSince(since);
    if (ids === null) return sseEvent("resync", JSON.stringify({ seq: position })) + hello;
    // Nothing changed since: the page is current (what is pending goes out with the next flush).
    if (ids.size === 0) return hello;
    const frame = buildFrame(this.model.all(), new Set([...ids, ...this.pending]), this.frameParams(true));
    return deltaEvent(position, frame, filter) + hello;
  }

  /** Stops the timers; the model is dropped with the feed. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.reloader) clearInterval(this.reloader);
    this.timer = null;
    this.reloader = null;
  }

  private frameParams(full: boolean) {
    return { now: Date.now(), todayUsd: this.model.todayUsd, dailyBudgetUsd: this.o.dailyBudgetUsd, last: this.last, full };
  }

  private schedule(): void {
    if (this.timer || this.closed || this.pending.size === 0) return;
    this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  private async flush(): Promise<void> {
    this.timer = null;
    if (this.flushing) return;
    this.flushing = true;
    try {
      this.model.todayUsd = await this.o.spend().catch(() => this.model.todayUsd);
      const changed = this.pending;
      this.pending = new Set();
      const position = this.model.commit(changed);
      // Without pages there is nothing to render; the history still serves pages about to connect.
      if (!this.hasPages()) return;
      const frame = buildFrame(this.model.all(), changed, this.frameParams(false));
      this.last = frame.next;
      this.send((filter) => deltaEvent(position, frame, filter));
    } catch (err) {
      this.o.logger.warn({ err }, "dashboard live update failed");
    } finally {
      this.flushing = false;
      this.schedule();
    }
  }

  private startReloads(): void {
    if (this.reloader || this.closed) return;
    this.reloader = setInterval(() => {
      if (!this.hasPages()) return;
      this.o.load().then(
        (src) => {
          for (const id of this.model.load(src)) this.pending.add(id);
          this.schedule();
        },
        (err: unknown) => this.o.logger.warn({ err }, "dashboard reload failed"),
      );
    }, this.o.reloadMs ?? 30_000);
    this.reloader.unref();
  }
}
