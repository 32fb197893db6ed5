import type { ServerResponse } from "node:http";
import type { Redis } from "ioredis";
import type { Logger } from "../logger.js";
import { withTimeout } from "../redis.js";
import type { TaskFilter } from "./filters.js";
import { type FeedOptions, LiveFeed } from "./live-feed.js";
import { sseEvent } from "./sse.js";

export { sseEvent } from "./sse.js";

interface Client {
  res: ServerResponse;
  /** Events that arrived before the client's snapshot was written; flushed right after it. */
  pending: string[] | null;
  /** A page's stream (deltas for its filter) rather than a raw one (a snapshot, then every record). */
  page: { filter: TaskFilter; key: string } | null;
}

/** A client whose socket stopped reading is dropped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 1 << 20;

/**
 * Fans the task channel out to every open event stream of this process over ONE Redis subscriber
 * connection, opened when the first page or client arrives, plus a keep-alive comment every
 * `pingMs` so proxies do not close idle streams. Pages get deltas from the live feed; raw clients
 * (API consumers) get a snapshot, then every task record.
 */
export class TaskEventHub {
  private readonly clients = new Set<Client>();
  private subscriber: Redis | null = null;
  private subscribed: Promise<void> | null = null;
  private ping: NodeJS.Timeout | null = null;
  private lastError = "";
  private readonly feed: LiveFeed;

  constructor(
    private readonly o: { channel: string; connect: () => Redis; logger: Logger; pingMs?: number; view: Omit<FeedOptions, "logger"> },
  ) {
    this.feed = new LiveFeed({ ...o.view, logger: o.logger }, (render) => this.sendPages(render), () => this.hasPages());
  }

  /**
   * Where the live model stands, once it is subscribed and loaded: a page rendered from a read
   * that starts after this call carries it, and its stream replays what changed after it.
   */
  async position(): Promise<string> {
    await this.subscribe();
    await this.feed.ready();
    return this.feed.model.position;
  }

  /**
   * Streams deltas for `filter` to a page's `res` (headers written): first what changed after
   * `since` (the page's position, or the last event id it received), then every flush.
   */
  async openPage(res: ServerResponse, filter: TaskFilter, since: string): Promise<void> {
    const client: Client = { res, pending: [], page: { filter, key: `${filter.state ?? ""}|${filter.repo ?? ""}` } };
    this.track(client);
    try {
      await this.subscribe();
      await this.feed.ready();
      // Synchronous from here: every flush after this replay reaches the page after it.
      this.write(client, this.feed.replay(filter, since));
      client.pending = null;
    } catch (err) {
      this.o.logger.warn({ err }, "dashboard event stream failed to start");
      this.clients.delete(client);
      res.end();
    }
  }

  /** Open streams right now (tests and logs). */
  get size(): number {
    return this.clients.size;
  }

  /**
   * Streams to `res` (its headers already written): first the `snapshot` event `snapshot()`
   * builds, then every task change. Resolves once the snapshot was sent or the stream ended.
   */
  async open(res: ServerResponse, snapshot: () => Promise<string>): Promise<void> {
    const client: Client = { res, pending: [], page: null };
    this.track(client);
    try {
      // Subscribe before reading the snapshot, so no change falls between the two.
      await this.subscribe();
      const data = await snapshot();
      this.write(client, sseEvent("snapshot", data));
      for (const event of client.pending ?? []) this.write(client, event);
      client.pending = null;
    } catch (err) {
      this.o.logger.warn({ err }, "dashboard event stream failed to start");
      this.clients.delete(client);
      res.end();
    }
  }

  /** Ends every open stream (before the server closes: they would hold it open). */
  endAll(): void {
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  /** Ends every stream and releases the subscriber and the timers. */
  async close(): Promise<void> {
    this.endAll();
    this.feed.close();
    if (this.ping) clearInterval(this.ping);
    this.ping = null;
    const sub = this.subscriber;
    this.subscriber = null;
    this.subscribed = null;
    if (!sub) return;
    // QUIT lets Redis drop the subscription before close resolves; a Redis that is away gets 500 ms.
    await withTimeout(sub.quit(), 500, "dashboard subscriber QUIT").catch(() => undefined);
    sub.disconnect();
  }

  private subscribe(): Promise<void> {
    if (this.subscribed) return this.subscribed;
    const sub = this.o.connect();
    this.subscriber = sub;
    sub.on("error", (err: Error) => {
      // ioredis repeats the same error on every reconnect attempt; log each distinct one once.
      if (err.message !== this.lastError) this.o.logger.warn({ err: err.message }, "dashboard subscriber error");
      this.lastError = err.message;
    });
    sub.on("message", (channel: string, message: string) => {
      if (channel !== this.o.channel) return;
      this.broadcast(sseEvent("task", message));
      this.feed.onMessage(message);
    });
    this.subscribed = sub.subscribe(this.o.channel).then(
      () => undefined,
      (err: unknown) => {
        // Let the next client try again with a fresh connection.
        if (this.subscriber === sub) {
          this.subscriber = null;
          this.subscribed = null;
        }
        sub.disconnect();
        throw err;
      },
    );
    return this.subscribed;
  }

  private track(client: Client): void {
    this.clients.add(client);
    client.res.on("close", () => this.clients.delete(client));
    client.res.on("error", () => this.clients.delete(client));
    this.startPing();
  }

  private hasPages(): boolean {
    for (const c of this.clients) if (c.page) return true;
    return false;
  }

  // One render per filter, whatever the number of pages showing it. A page still waiting for its
  // replay skips the flush: the replay covers it.
  private sendPages(render: (filter: TaskFilter, key: string) => string): void {
    const events = new Map<string, string>();
    for (const c of this.clients) {
      if (!c.page || c.pending) continue;
      let event = events.get(c.page.key);
      if (event === undefined) {
        event = render(c.page.filter, c.page.key);
        events.set(c.page.key, event);
      }
      this.write(c, event);
    }
  }

  private broadcast(event: string): void {
    for (const c of this.clients) {
      if (c.page) continue;
      if (c.pending) c.pending.push(event);
      else this.write(c, event);
    }
  }

  private write(c: Client, chunk: string): void {
    if (c.res.destroyed || c.res.writableEnded) {
      this.clients.delete(c);
      return;
    }
    if (c.res.writableLength > MAX_BUFFERED_BYTES) {
      this.clients.delete(c);
      c.res.destroy();
      return;
    }
    c.res.write(chunk);
  }

  private startPing(): void {
    if (this.ping) return;
    this.ping = setInterval(() => {
      for (const c of this.clients) if (!c.pending) this.write(c, ": ping\n\n");
    }, this.o.pingMs ?? 15_000);
    this.ping.unref();
  }
}
