import type { Redis } from "ioredis";
import type { TokenCipher } from "./token-cipher.js";

/** What an installation is, without its tokens: safe for doctor, logs and the dashboard. */
export interface InstallationInfo {
  organizationId: string;
  organizationName: string;
  /** The workspace's URL key (linear.app/<urlKey>), for LINEAR_ALLOWED_ORGANIZATIONS. */
  urlKey?: string | undefined;
  /** The app's user in that workspace (`viewer { id }` with its token). */
  appUserId: string;
  grant: "authorization_code" | "client_credentials";
  scope: string[];
  /** Epoch ms when the access token expires. */
  expiresAt: number;
  /** Epoch ms when the access token was issued (to refresh ahead by a share of its lifetime). */
  obtainedAt: number;
  installedAt: string;
}

/** An installation with its tokens; only this module and app-auth ever hold one. */
export interface Installation extends InstallationInfo {
  accessToken: string;
  refreshToken: string | null;
}

const REPLACE = `if redis.call("exists", KEYS[1]) == 1 then redis.call("hset", KEYS[1], "info", ARGV[1], "secret", ARGV[2]) return 1 else return 0 end`;
const UNLOCK = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

/**
 * The app's installations in Redis, one hash per organization: the description in plain JSON and
 * the tokens sealed with TOKEN_ENCRYPTION_KEY, written together in one command.
 */
export class TokenStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly cipher: TokenCipher,
  ) {}

  private key(organizationId: string) {
    return `${this.prefix}:linear-app:org:${organizationId}`;
  }
  private get index() {
    return `${this.prefix}:linear-app:orgs`;
  }
  private lockKey(name: string) {
    return `${this.prefix}:linear-app:lock:${name}`;
  }

  /** Stores (replaces) an organization's installation. */
  async save(inst: Installation): Promise<void> {
    const { accessToken, refreshToken, ...info } = inst;
    const secret = this.cipher.seal(JSON.stringify({ accessToken, refreshToken }), inst.organizationId);
    await this.redis.multi().hset(this.key(inst.organizationId), { info: JSON.stringify(info), secret }).sadd(this.index, inst.organizationId).exec();
  }

  /**
   * Replaces the tokens of an installation that still exists; false when it was deleted meanwhile
   * (revoked during a refresh), so a refresh never brings a revoked installation back.
   */
  async replace(inst: Installation): Promise<boolean> {
    const { accessToken, refreshToken, ...info } = inst;
    const secret = this.cipher.seal(JSON.stringify({ accessToken, refreshToken }), inst.organizationId);
    return (await this.redis.eval(REPLACE, 1, this.key(inst.organizationId), JSON.stringify(info), secret)) === 1;
  }

  /** The organization's installation with its tokens, or null when it has none. */
  async get(organizationId: string): Promise<Installation | null> {
    const [info, secret] = await this.redis.hmget(this.key(organizationId), "info", "secret");
    if (!info || !secret) return null;
    const tokens = JSON.parse(this.cipher.open(secret, organizationId)) as Pick<Installation, "accessToken" | "refreshToken">;
    return { ...(JSON.parse(info) as InstallationInfo), ...tokens };
  }

  /** Every installation's description (no tokens), by organization name. */
  async list(): Promise<InstallationInfo[]> {
    const ids = await this.redis.smembers(this.index);
    const infos = await Promise.all(ids.map((id) => this.redis.hget(this.key(id), "info")));
    return infos
      .filter((i): i is string => i !== null)
      .map((i) => JSON.parse(i) as InstallationInfo)
      .sort((a, b) => a.organizationName.localeCompare(b.organizationName));
  }

  /** Deletes an organization's tokens; true when there were any. */
  async remove(organizationId: string): Promise<boolean> {
    const res = await this.redis.multi().del(this.key(organizationId)).srem(this.index, organizationId).exec();
    return Number(res?.[0]?.[1] ?? 0) > 0;
  }

  /** Takes a named lock for `ttlMs` if nobody holds it. */
  async tryLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.lockKey(name), owner, "PX", ttlMs, "NX")) === "OK";
  }

  /** Releases a lock this owner holds (never someone else's that took over after expiry). */
  async unlock(name: string, owner: string): Promise<void> {
    await this.redis.eval(UNLOCK, 1, this.lockKey(name), owner);
  }

  /** Whether anyone holds the lock. */
  async locked(name: string): Promise<boolean> {
    return (await this.redis.exists(this.lockKey(name))) === 1;
  }
}
