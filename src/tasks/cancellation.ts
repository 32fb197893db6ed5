import type { Redis } from "ioredis";
import type { Logger } from "../logger.js";

/**
 * Stops running agents across every worker process: a cancel is published on a Redis channel
 * and each process aborts the AbortController of its job for that issue. A stop marker also
 * makes a job that starts later (it was waiting) refuse to run.
 */
export class Cancellation {
  private readonly running = new Map<string, AbortController>();
  private subscriber: Redis | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly connect: () => Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  private get channel() {
    return `${this.prefix}:cancel`;
  }
  private stopKey(issueId: string) {
    return `${this.prefix}:stop:${issueId}`;
  }

  /** Starts listening for cancels; call once per worker process. */
  async listen(): Promise<void> {
    if (this.subscriber) return;
    const subscriber = this.connect();
    this.subscriber = subscriber;
    subscriber.on("error", () => undefined);
    subscriber.on("message", (channel: string, message: string) => {
      if (channel !== this.channel) return;
      try {
        const { issueId, reason } = JSON.parse(message) as { issueId: string; reason: string };
        const ctrl = this.running.get(issueId);
        if (ctrl && !ctrl.signal.aborted) {
          this.logger.info({ issueId, reason }, "stopping the running agent");
          ctrl.abort(new Error(reason));
        }
      } catch (err) {
        this.logger.warn({ err }, "ignoring a malformed cancel message");
      }
    });
    await subscriber.subscribe(this.channel);
  }

  /** Stops listening. */
  async close(): Promise<void> {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  /** Links a job's controller to its issue until the returned function is called. */
  register(issueId: string, ctrl: AbortController): () => void {
    this.running.set(issueId, ctrl);
    return () => {
      if (this.running.get(issueId) === ctrl) this.running.delete(issueId);
    };
  }

  /** Aborts whatever runs for the issue, in any process, and marks jobs created before now as stopped. */
  async cancel(issueId: string, reason: string): Promise<void> {
    await this.redis.set(this.stopKey(issueId), String(Date.now()), "EX", 30 * 24 * 3600);
    await this.redis.publish(this.channel, JSON.stringify({ issueId, reason }));
  }

  /** True when a cancel arrived after a job created at `createdAt` (ms) was queued. */
  async stoppedSince(issueId: string, createdAt: number): Promise<boolean> {
    const at = await this.redis.get(this.stopKey(issueId));
    return at !== null && Number(at) >= createdAt;
  }
}
