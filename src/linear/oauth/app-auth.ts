import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "../../logger.js";
import { createLinearClient, type LinearTokenSource } from "../client.js";
import { InstallState } from "./install-state.js";
import type { LinearAppConfig } from "./settings.js";
import { TokenCipher } from "./token-cipher.js";
import { OrgPolicy } from "./org-policy.js";
import { clientCredentialsGrant, exchangeCode, OAuthTokenError, REFRESH_REQUEST_TIMEOUT_MS, refreshGrant, type TokenGrant } from "./token-endpoint.js";
import { TokenKeeper } from "./token-keeper.js";
import { type Installation, type InstallationInfo, TokenStore } from "./token-store.js";

/** Refresh this long before expiry (Linear's tokens last 24 h), or a quarter of a shorter lifetime. */
const REFRESH_AHEAD_MS = 5 * 60_000;
/** Outlives a refresh plus its patient write, so a live winner never loses its lock. */
const LOCK_TTL_MS = REFRESH_REQUEST_TIMEOUT_MS * 3;
const POLL_MS = 50;
/** After Linear says the app does not allow client credentials, ask again no sooner than this. */
const GRANT_REFUSAL_MEMORY_MS = 60_000;

/** The app has no usable installation for what was asked; the message says how to install it. */
export class LinearAppAuthError extends Error {
  override name = "LinearAppAuthError";
}

/** LINEAR_ALLOWED_ORGANIZATIONS does not name the workspace that tried to install the app. */
export class OrganizationNotAllowedError extends LinearAppAuthError {
  override name = "OrganizationNotAllowedError";
  constructor(readonly organizationName: string) {
    super(`the Linear workspace ${organizationName} is not in LINEAR_ALLOWED_ORGANIZATIONS`);
  }
}

/**
 * The Linear OAuth app's side of authentication: installs, per-organization tokens (encrypted in
 * Redis), refresh ahead of expiry and after a 401 — once per organization across all processes,
 * under a Redis lock — and the client_credentials grant for a deployment nobody installed yet.
 */
export class LinearApp {
  readonly store: TokenStore;
  readonly state: InstallState;
  readonly orgs: OrgPolicy;
  private readonly keeper: TokenKeeper;
  private grantRefusedUntil = 0;

  /** `patientRedis` (rides out a blip) stores renewed pairs; `redis` (fail-fast) serves the rest. */
  constructor(
    readonly config: LinearAppConfig,
    private readonly p: { apiUrl: string; redis: Redis; patientRedis?: Redis; prefix: string; logger: Logger; installUrl?: string },
  ) {
    const cipher = new TokenCipher(config.encryptionKey);
    this.store = new TokenStore(p.redis, p.prefix, cipher);
    this.state = new InstallState(cipher.stateKey);
    this.orgs = new OrgPolicy(p.redis, p.prefix, config.allowedOrganizations);
    this.keeper = new TokenKeeper(new TokenStore(p.patientRedis ?? p.redis, p.prefix, cipher), p.logger);
  }

  /** The installed workspaces, without tokens. */
  installations(): Promise<InstallationInfo[]> {
    return this.store.list();
  }

  /** Completes an install: trades the code, learns the app user and workspace, stores the tokens. */
  async install(code: string): Promise<InstallationInfo> {
    if (!this.config.redirectUri) throw new LinearAppAuthError("PUBLIC_URL is not set, so the app has no redirect URI");
    const grant = await exchangeCode(this.config, code, this.config.redirectUri);
    const inst = await this.identify(grant, "authorization_code");
    // Nothing is stored for a workspace the operator did not allow.
    if (!this.orgs.allows({ id: inst.organizationId, urlKey: inst.urlKey })) throw new OrganizationNotAllowedError(inst.organizationName);
    await this.store.save(inst);
    // An admin's install is the one thing that lifts a recorded revocation.
    await this.orgs.clearRevoked(inst.organizationId);
    this.p.logger.info({ organizationId: inst.organizationId, organization: inst.organizationName, expiresAt: new Date(inst.expiresAt).toISOString() }, "Linear app installed");
    return describe(inst);
  }

  /** Forgets an organization's tokens (the app was revoked there); true when it had any. */
  async revoke(organizationId: string): Promise<boolean> {
    // Recorded first, so a client_credentials grant racing this cannot bring the workspace back.
    await this.orgs.markRevoked(organizationId);
    this.keeper.drop(organizationId);
    const removed = await this.store.remove(organizationId);
    this.p.logger.info({ organizationId, removed }, "Linear app tokens deleted");
    return removed;
  }

  /** The organization a call that names none goes to: the only installation, or a client_credentials one. */
  async defaultOrganization(): Promise<string> {
    for (;;) {
      const installed = await this.store.list();
      if (installed.length === 1) return installed[0]!.organizationId;
      if (installed.length > 1) {
        throw new LinearAppAuthError(
          `the Linear app is installed in ${installed.length} workspaces (${installed.map((i) => i.organizationName).join(", ")}); a Linear call must name its organization`,
        );
      }
      const owner = randomUUID();
      if (!(await this.store.tryLock("bootstrap", owner, LOCK_TTL_MS))) {
        await this.waitForUnlock("bootstrap");
        continue;
      }
      try {
        if ((await this.store.list()).length === 0) return await this.bootstrap();
      } finally {
        await this.store.unlock("bootstrap", owner);
      }
    }
  }

  /** A token source for one organization (or the default one), for createLinearClient. */
  tokenSource(organizationId?: string): LinearTokenSource {
    const org = () => (organizationId ? Promise.resolve(organizationId) : this.defaultOrganization());
    return {
      authorization: async () => `Bearer ${(await this.renew(await org(), null)).accessToken}`,
      rejected: async (authorization) => {
        const renewed = await this.renew(await org(), authorization.replace(/^Bearer /, ""));
        return `Bearer ${renewed.accessToken}`;
      },
    };
  }

  /**
   * The organization's installation with a usable access token. `rejected` is the token Linear
   * just refused (renew unless someone already did), null to renew only when it is due. One
   * process renews under the lock; the others wait for it and read what it stored.
   */
  private async renew(organizationId: string, rejected: string | null): Promise<Installation> {
    const deadline = Date.now() + LOCK_TTL_MS * 2;
    for (;;) {
      const current = await this.installed(organizationId);
      const stale = rejected === null ? dueForRefresh(current) : current.accessToken === rejected;
      if (!stale) return current;
      const owner = randomUUID();
      if (await this.store.tryLock(organizationId, owner, LOCK_TTL_MS)) {
        try {
          const fresh = await this.installed(organizationId);
          // Another process renewed between our read and our lock.
          if (fresh.accessToken !== current.accessToken) return fresh;
          return await this.renewHoldingLock(fresh);
        } finally {
          // A blip must not throw away a renewed pair; the lock expires by itself.
          await this.store.unlock(organizationId, owner).catch(() => undefined);
        }
      }
      if (Date.now() > deadline) throw new LinearAppAuthError(`the Linear token of organization ${organizationId} could not be renewed in time`);
      await this.waitForUnlock(organizationId);
    }
  }

  private async renewHoldingLock(inst: Installation): Promise<Installation> {
    let grant: TokenGrant;
    try {
      grant = inst.refreshToken ? await refreshGrant(this.config, inst.refreshToken) : await clientCredentialsGrant(this.config);
    } catch (err) {
      if (err instanceof OAuthTokenError && err.invalidGrant) {
        throw new LinearAppAuthError(`Linear no longer accepts the app's authorization for ${inst.organizationName} (${err.message}); install the app again${this.p.installUrl ? ` at ${this.p.installUrl}` : ""}`);
      }
      throw err;
    }
    const renewed: Installation = {
      ...inst,
      accessToken: grant.accessToken,
      // Rotated: the old refresh token is spent, so the new one is stored before anything uses
      // the new access token. (A server that does not rotate keeps the old one valid.)
      refreshToken: grant.refreshToken ?? inst.refreshToken,
      expiresAt: grant.expiresAt,
      obtainedAt: Date.now(),
      scope: grant.scope.length ? grant.scope : inst.scope,
    };
    if (!(await this.keeper.save(renewed))) throw new LinearAppAuthError(`the Linear app was removed from organization ${inst.organizationId} while its token was renewed`);
    this.p.logger.info({ organizationId: inst.organizationId, grant: inst.refreshToken ? "refresh_token" : "client_credentials", expiresAt: new Date(renewed.expiresAt).toISOString() }, "Linear app token renewed");
    return renewed;
  }

  /** Client credentials for a deployment with no installation yet (only one token per app may exist). */
  private async bootstrap(): Promise<string> {
    const hint = `open ${this.p.installUrl ?? "PUBLIC_URL/oauth/linear/install"} to install it in a workspace, or allow the client credentials grant in the app's settings on Linear`;
    if (Date.now() < this.grantRefusedUntil) throw new LinearAppAuthError(`the Linear app is not installed in any workspace: ${hint}`);
    let grant: TokenGrant;
    try {
      grant = await clientCredentialsGrant(this.config);
    } catch (err) {
      if (err instanceof OAuthTokenError && err.grantNotAllowed) {
        this.grantRefusedUntil = Date.now() + GRANT_REFUSAL_MEMORY_MS;
        throw new LinearAppAuthError(`the Linear app is not installed in any workspace and Linear refused client credentials (${err.description || err.code}): ${hint}`);
      }
      throw err;
    }
    const inst = await this.identify(grant, "client_credentials");
    await this.refuseUnwelcome(inst);
    await this.store.save(inst);
    this.p.logger.info({ organizationId: inst.organizationId, organization: inst.organizationName }, "Linear app token obtained with client credentials");
    return inst.organizationId;
  }

  // A client_credentials token is discarded for a workspace that revoked the app or is not
  // allowed: only an admin's install may bring it back. Remembered like a refused grant.
  private async refuseUnwelcome(inst: Installation): Promise<void> {
    const revoked = await this.orgs.isRevoked(inst.organizationId);
    if (!revoked && this.orgs.allows({ id: inst.organizationId, urlKey: inst.urlKey })) return;
    this.grantRefusedUntil = Date.now() + GRANT_REFUSAL_MEMORY_MS;
    const why = revoked ? "revoked the app" : "is not in LINEAR_ALLOWED_ORGANIZATIONS";
    this.p.logger.warn({ organizationId: inst.organizationId, organization: inst.organizationName }, `Linear client_credentials token discarded: the workspace ${why}`);
    throw new LinearAppAuthError(`the Linear workspace ${inst.organizationName} ${why}, so its client_credentials token is not used; an admin must install the app at ${this.p.installUrl ?? "PUBLIC_URL/oauth/linear/install"}`);
  }

  /** Asks Linear who the token is: the app user and its workspace (stored with the token, as Linear advises). */
  private async identify(grant: TokenGrant, kind: Installation["grant"]): Promise<Installation> {
    const client = createLinearClient({ apiKey: `Bearer ${grant.accessToken}`, apiUrl: this.p.apiUrl });
    const res = await client.client.rawRequest<{ viewer: { id: string }; organization: { id: string; name: string; urlKey?: string } }, Record<string, never>>(
      "query AppIdentity { viewer { id } organization { id name urlKey } }",
      {},
    );
    if (!res.data) throw new LinearAppAuthError("Linear did not say which workspace the new token belongs to");
    const now = Date.now();
    return {
      organizationId: res.data.organization.id,
      organizationName: res.data.organization.name,
      urlKey: res.data.organization.urlKey,
      appUserId: res.data.viewer.id,
      grant: kind,
      scope: grant.scope,
      expiresAt: grant.expiresAt,
      obtainedAt: now,
      installedAt: new Date(now).toISOString(),
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
    };
  }

  private async installed(organizationId: string): Promise<Installation> {
    // A pair renewed here that Redis has not taken yet is the only valid one.
    const inst = this.keeper.pending(organizationId) ?? (await this.store.get(organizationId));
    if (!inst) throw new LinearAppAuthError(`the Linear app is not installed in organization ${organizationId} (or was revoked there)`);
    return inst;
  }

  private async waitForUnlock(name: string): Promise<void> {
    const until = Date.now() + LOCK_TTL_MS;
    while ((await this.store.locked(name)) && Date.now() < until) await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Whether a token is close enough to its expiry to renew before use. */
export function dueForRefresh(inst: Pick<InstallationInfo, "expiresAt" | "obtainedAt">, now = Date.now()): boolean {
  const ahead = Math.min(REFRESH_AHEAD_MS, (inst.expiresAt - inst.obtainedAt) / 4);
  return now >= inst.expiresAt - ahead;
}

function describe(inst: Installation): InstallationInfo {
  const { accessToken: _a, refreshToken: _r, ...info } = inst;
  return info;
}
