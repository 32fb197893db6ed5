import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "../logger.js";
import { BudgetRedis, identityHash } from "../redis-token-budget.js";
import { PAUSE, TAKE } from "./budget-script.js";
import type { RequestClass } from "./request-class.js";

/** Linear's documented request limits per hour: an OAuth app per app user, a personal API key. */
export const LINEAR_LIMITS = { app: 1_200, apiKey: 5_000 } as const;

/** How a token's requests are paced: its hourly allowance and how many may go back to back. */
export interface BudgetSettings {
  requestsPerHour: number;
  /** Requests that may go at once after a quiet spell; default a hundredth of the hour, at least 4. */
  burst?: number;
}

/** Longest single wait between two looks at the budget, so a long pause still notices an abort. */
const MAX_POLL_MS = 5_000;
/** A critical waiter entry outlives its wait by this much, then expires if its process died. */
const WAITER_GRACE_MS = 2_000;

interface Caller<T> {
  send: () => Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

interface Item {
  cls: RequestClass;
  /** Everyone waiting for this request; the newest caller's request is the one sent. */
  callers: Array<Caller<unknown>>;
}

/**
 * The Redis-shared request budgets of every Linear token this process uses, one per token
 * identity (an organization's app user, or an API key), keyed by a hash of that identity.
 */
export class LinearBudget {
  private readonly budgets = new Map<string, TokenBudget>();
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly settings: BudgetSettings,
    private readonly logger: Logger,
  ) {}

  /** The budget of one token identity (never the token itself: it is hashed before use). */
  of(identity: string): TokenBudget {
    const hash = identityHash(identity);
    let budget = this.budgets.get(hash);
    if (!budget) {
      budget = new TokenBudget(this.redis, `${this.prefix}:linear-budget:${hash}`, this.settings, this.logger);
      this.budgets.set(hash, budget);
    }
    return budget;
  }
}

/**
 * One token's budget: a token bucket in Redis shared by every process, fed by one local line per
 * process. Critical calls go before status calls; a status call whose coalesce key matches one
 * still waiting replaces its request (the latest status wins) and both callers get its answer.
 */
export class TokenBudget {
  private readonly critical: Item[] = [];
  private readonly status: Item[] = [];
  private readonly waiter = randomUUID();
  private readonly capacity: number;
  private readonly perMs: number;
  private pumping = false;
  private wake: (() => void) | null = null;
  private readonly link: BudgetRedis;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    settings: BudgetSettings,
    logger: Logger,
  ) {
    this.link = new BudgetRedis(redis, logger, "Linear request budget");
    this.perMs = settings.requestsPerHour / 3_600_000;
    this.capacity = Math.max(1, settings.burst ?? Math.max(4, Math.round(settings.requestsPerHour / 100)));
  }

  /** Sends `send` when the budget allows it; rejects with the signal's reason if aborted while waiting. */
  run<T>(cls: RequestClass, send: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const line = cls.priority === "critical" ? this.critical : this.status;
      const same = cls.coalesceKey ? line.find((i) => i.cls.coalesceKey === cls.coalesceKey) : undefined;
      const item: Item = same ?? { cls, callers: [] };
      const caller: Caller<unknown> = { send, resolve: resolve as (v: unknown) => void, reject, signal, onAbort: () => this.drop(item, caller) };
      signal?.addEventListener("abort", caller.onAbort, { once: true });
      item.callers.push(caller);
      if (!same) line.push(item);
      // A critical call must not sleep behind a status call's long wait.
      if (cls.priority === "critical") this.wake?.();
      void this.pump();
    });
  }

  /** Linear said to wait `ms`: every process pauses this token's requests that long. */
  async pause(ms: number): Promise<void> {
    await this.link.share(PAUSE, [`${this.key}:bucket`, `${this.key}:paused`], [Math.ceil(ms), this.capacity, this.perMs], "could not pause the Linear request budget");
    this.wake?.();
  }

  private drop(item: Item, caller: Caller<unknown>): void {
    item.callers = item.callers.filter((c) => c !== caller);
    caller.reject(caller.signal?.reason);
    if (item.callers.length > 0) return;
    for (const line of [this.critical, this.status]) {
      const at = line.indexOf(item);
      if (at !== -1) line.splice(at, 1);
    }
    // No critical call of this process waits any more: its entry must not hold back every
    // process's status calls until it expires.
    if (this.critical.length === 0) {
      this.redis.zrem(`${this.key}:waiters`, this.waiter).catch(() => undefined);
    }
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const item = this.critical[0] ?? this.status[0];
        if (!item) return;
        const wait = await this.take(item.cls.priority);
        if (wait > 0) {
          await this.sleep(Math.min(wait, MAX_POLL_MS));
          continue;
        }
        // The head may have changed while Redis answered (an abort, a critical arrival): the
        // token taken goes to whoever is first now, which is never worse for critical calls.
        const next = this.critical.shift() ?? this.status.shift();
        if (next) this.start(next);
      }
    } finally {
      this.pumping = false;
    }
  }

  private start(item: Item): void {
    const callers = item.callers;
    for (const c of callers) c.signal?.removeEventListener("abort", c.onAbort);
    const newest = callers.at(-1);
    if (!newest) return;
    newest.send().then(
      (v) => callers.forEach((c) => c.resolve(v)),
      (e: unknown) => callers.forEach((c) => c.reject(e)),
    );
  }

  /** 0 when a request may go now, else how long to wait. Redis unreachable: go (Linear's own limit still answers). */
  private async take(priority: RequestClass["priority"]): Promise<number> {
    // A quarter of the bucket stays for critical calls (none when the bucket is tiny: then only
    // the critical waiters hold status calls back).
    const reserve = Math.floor(this.capacity / 4);
    const k = this.key;
    return this.link.take(TAKE, [`${k}:bucket`, `${k}:paused`, `${k}:waiters`], [this.capacity, this.perMs, priority, reserve, this.waiter, WAITER_GRACE_MS]);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
