import type { Redis } from "ioredis";
import type { Logger } from "../logger.js";

/**
 * Stops running agents across every worker process: a cancel is published on a Redis channel
 * and each process aborts the AbortControllers of its jobs for that issue. A stop marker also
 * makes a job that starts later (it was waiting) refuse to run.
 */
export class Cancellation {
  // Several jobs of one issue can be in a processor at once (a revision polling for the issue
  // lock while the implement job holds it), so each issue keeps a set: one job leaving must not
  // take the running agent's registration with it.
  private readonly running = new Map<string, Set<AbortController>>();
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
        const live = [...(this.running.get(issueId) ?? [])].filter((ctrl) => !ctrl.signal.aborted);
        if (live.length > 0) this.logger.info({ issueId, reason, jobs: live.length }, "stopping the running agent");
        for (const ctrl of live) ctrl.abort(new Error(reason));
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

  /** Links a job's controller to its issue until the returned function is called; other jobs of the issue stay linked. */
  register(issueId: string, ctrl: AbortController): () => void {
    let set = this.running.get(issueId);
    if (!set) {
      set = new Set();
      this.running.set(issueId, set);
    }
    set.add(ctrl);
    return () => {
      const current = this.running.get(issueId);
      if (!current?.delete(ctrl)) return;
      if (current.size === 0) this.running.delete(issueId);
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
