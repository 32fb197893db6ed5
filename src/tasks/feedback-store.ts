import type { Redis } from "ioredis";
import type { FeedbackJobData } from "../../jobs/queues.js";

/** How long collected review comments wait for a revision that takes them. */
const PENDING_TTL_SECONDS = 7 * 24 * 3600;

// Moves everything pending into the job's own hash and returns what that job holds: a job that
// crashed and is retried finds its feedback again instead of an empty store.
const CLAIM = `
local items = redis.call("HGETALL", KEYS[1])
for i = 1, #items, 2 do redis.call("HSET", KEYS[2], items[i], items[i + 1]) end
redis.call("DEL", KEYS[1])
if redis.call("EXISTS", KEYS[2]) == 1 then redis.call("EXPIRE", KEYS[2], ARGV[1]) end
return redis.call("HVALS", KEYS[2])`;

// Gives a job's feedback back to the pending hash (newer pending entries win).
const RELEASE = `
local items = redis.call("HGETALL", KEYS[2])
for i = 1, #items, 2 do redis.call("HSETNX", KEYS[1], items[i], items[i + 1]) end
redis.call("DEL", KEYS[2])
if #items > 0 then redis.call("EXPIRE", KEYS[1], ARGV[1]) end
return #items / 2`;

/**
 * Feedback collected for an agent's PR until a revision takes it: one hash per issue, keyed by
 * event and comment id, so a redelivered comment is stored once. A revision claims the feedback
 * into a hash of its own and deletes it only when it succeeded.
 */
export class FeedbackStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private pending(issueId: string) {
    return `${this.prefix}:feedback:${issueId}`;
  }
  private claimed(issueId: string, jobId: string) {
    return `${this.prefix}:feedback:${issueId}:job:${jobId}`;
  }

  /** Stores one piece of feedback (idempotent per event and comment id). */
  async add(issueId: string, item: FeedbackJobData): Promise<void> {
    const key = this.pending(issueId);
    await this.redis
      .multi()
      .hset(key, `${item.event}:${item.commentId}`, JSON.stringify(item))
      .expire(key, PENDING_TTL_SECONDS)
      .exec();
  }

  /** Claims everything pending for `jobId` (plus what it claimed before a crash), oldest first. */
  async claim(issueId: string, jobId: string): Promise<FeedbackJobData[]> {
    const raw = (await this.redis.eval(CLAIM, 2, this.pending(issueId), this.claimed(issueId, jobId), PENDING_TTL_SECONDS)) as string[];
    return raw
      .map((r) => JSON.parse(r) as FeedbackJobData)
      .sort((a, b) => a.source.receivedAt.localeCompare(b.source.receivedAt));
  }

  /** The job is done with its feedback. */
  async complete(issueId: string, jobId: string): Promise<void> {
    await this.redis.del(this.claimed(issueId, jobId));
  }

  /** The job failed: its feedback goes back for the next revision. */
  async release(issueId: string, jobId: string): Promise<void> {
    await this.redis.eval(RELEASE, 2, this.pending(issueId), this.claimed(issueId, jobId), PENDING_TTL_SECONDS);
  }

  /** Drops everything waiting for an issue (its PR was merged or closed). */
  async discard(issueId: string): Promise<void> {
    await this.redis.del(this.pending(issueId));
  }

  /** How many items wait. */
  async count(issueId: string): Promise<number> {
    return this.redis.hlen(this.pending(issueId));
  }
}
