import type { Redis } from "ioredis";
import type { FeedbackJobData } from "../../jobs/queues.js";

/** How long collected review comments wait for a revision that takes them. */
const PENDING_TTL_SECONDS = 24 * 3600;

// Takes every pending item and deletes the hash in one step, so no item is taken twice.
const TAKE_ALL = `local items = redis.call("HVALS", KEYS[1]) redis.call("DEL", KEYS[1]) return items`;

/**
 * Feedback collected for an agent's PR until a revision takes it: one hash per issue, keyed by
 * comment id, so a redelivered comment is stored once.
 */
export class FeedbackStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(issueId: string) {
    return `${this.prefix}:feedback:${issueId}`;
  }

  /** Stores one piece of feedback (idempotent per event and comment id). */
  async add(issueId: string, item: FeedbackJobData): Promise<void> {
    const key = this.key(issueId);
    await this.redis.multi().hset(key, `${item.event}:${item.commentId}`, JSON.stringify(item)).expire(key, PENDING_TTL_SECONDS).exec();
  }

  /** Removes and returns everything collected, oldest first. */
  async takeAll(issueId: string): Promise<FeedbackJobData[]> {
    const raw = (await this.redis.eval(TAKE_ALL, 1, this.key(issueId))) as string[];
    return raw.map((r) => JSON.parse(r) as FeedbackJobData).sort((a, b) => a.source.receivedAt.localeCompare(b.source.receivedAt));
  }

  /** Puts items back after a revision failed to start, so nothing is lost. */
  async restore(issueId: string, items: FeedbackJobData[]): Promise<void> {
    for (const item of items) await this.add(issueId, item);
  }

  /** How many items wait. */
  async count(issueId: string): Promise<number> {
    return this.redis.hlen(this.key(issueId));
  }
}
