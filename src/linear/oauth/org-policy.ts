import type { Redis } from "ioredis";

/** A workspace as Linear names it: its id and its URL key (linear.app/<urlKey>). */
export interface OrgRef {
  id: string;
  urlKey?: string | undefined;
}

/**
 * Which workspaces may hold the app's tokens: those LINEAR_ALLOWED_ORGANIZATIONS names (any, when
 * it is empty), minus those that revoked the app. A revocation is remembered in Redis without an
 * expiry, because the client_credentials grant would otherwise hand the revoking workspace a new
 * token on the next call; only an admin's install through the browser clears it.
 */
export class OrgPolicy {
  private readonly allowed: Set<string>;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    allowed: readonly string[],
  ) {
    this.allowed = new Set(allowed.map((a) => a.toLowerCase()));
  }

  private get revokedKey() {
    return `${this.prefix}:linear-app:revoked`;
  }

  /** Whether LINEAR_ALLOWED_ORGANIZATIONS lets this workspace use the app. */
  allows(org: OrgRef): boolean {
    if (this.allowed.size === 0) return true;
    return this.allowed.has(org.id.toLowerCase()) || (org.urlKey !== undefined && this.allowed.has(org.urlKey.toLowerCase()));
  }

  /** Records that a workspace revoked the app. */
  async markRevoked(organizationId: string): Promise<void> {
    await this.redis.sadd(this.revokedKey, organizationId);
  }

  /** Forgets a revocation (an admin installed the app again). */
  async clearRevoked(organizationId: string): Promise<void> {
    await this.redis.srem(this.revokedKey, organizationId);
  }

  /** Whether the workspace revoked the app and has not installed it again since. */
  async isRevoked(organizationId: string): Promise<boolean> {
    return (await this.redis.sismember(this.revokedKey, organizationId)) === 1;
  }
}
