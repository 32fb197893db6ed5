import type { Logger } from "../../logger.js";
import type { Installation, TokenStore } from "./token-store.js";

/** Writes of a renewed pair before it is kept in memory instead (each waits out a blip on the patient connection). */
const SAVE_ATTEMPTS = 2;
const RETRY_MS = 1_000;
/** How often an unsaved pair is tried again in the background. */
const BACKGROUND_RETRY_MS = 5_000;

/**
 * Stores renewed token pairs through the patient Redis connection. Linear has already rotated
 * the refresh token when the answer arrives, so losing the write loses the installation: after a
 * few failed writes the pair stays in this process's memory (used from there) and is written
 * again in the background until Redis takes it or the installation is gone.
 */
export class TokenKeeper {
  private readonly unsaved = new Map<string, Installation>();

  constructor(
    private readonly store: TokenStore,
    private readonly logger: Logger,
  ) {}

  /** The pair renewed here but not yet in Redis, which is newer than what Redis holds. */
  pending(organizationId: string): Installation | undefined {
    return this.unsaved.get(organizationId);
  }

  /** Forgets an unsaved pair (the workspace revoked the app). */
  drop(organizationId: string): void {
    this.unsaved.delete(organizationId);
  }

  /** Saves a renewed pair; false when the installation was deleted meanwhile (revoked). */
  async save(inst: Installation): Promise<boolean> {
    let last: unknown;
    for (let attempt = 1; attempt <= SAVE_ATTEMPTS; attempt++) {
      try {
        const kept = await this.store.replace(inst);
        this.settle(inst);
        return kept;
      } catch (err) {
        last = err;
        if (attempt < SAVE_ATTEMPTS) await sleep(RETRY_MS * attempt);
      }
    }
    this.unsaved.set(inst.organizationId, inst);
    // Loud, and never the token: an operator must know a restart now would lose the installation.
    this.logger.error(
      { organizationId: inst.organizationId, err: (last as Error)?.message },
      "the renewed Linear refresh token could not be saved to Redis; it is kept in this process and saved as soon as Redis answers. Until then, a restart of this process loses the installation (install the app again then)",
    );
    this.retryLater(inst);
    return true;
  }

  private settle(inst: Installation): void {
    if (this.unsaved.get(inst.organizationId) === inst) this.unsaved.delete(inst.organizationId);
  }

  private retryLater(inst: Installation): void {
    const timer = setTimeout(() => {
      // A newer renewal or a revocation replaced this pair: nothing left to save.
      if (this.unsaved.get(inst.organizationId) !== inst) return;
      this.store.replace(inst).then(
        (kept) => {
          this.settle(inst);
          this.logger.info({ organizationId: inst.organizationId, kept }, kept ? "the renewed Linear refresh token is saved to Redis now" : "the Linear app was revoked before its renewed token could be saved");
        },
        () => this.retryLater(inst),
      );
    }, BACKGROUND_RETRY_MS);
    timer.unref();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
