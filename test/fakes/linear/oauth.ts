import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { LinearStore } from "./store.js";

type Grant = "authorization_code" | "refresh_token" | "client_credentials";

/** One call of POST /oauth/token, as the fake saw it (no tokens). */
export interface FakeTokenRequest {
  grant: string;
  status: number;
  error?: string;
  /** How the client authenticated. */
  clientAuth: "form" | "basic" | "none";
}

/** Who a bearer token is, when the fake knows it. */
export type FakeBearer = { ok: true; userId: string } | { ok: false; reason: "expired" | "revoked" };

interface AccessToken {
  userId: string;
  expiresAt: number;
  revoked: boolean;
}

const DAY_MS = 24 * 3600_000;

/**
 * Linear's OAuth side for the fake: POST /oauth/token (authorization_code bound to the code's
 * client and redirect_uri; refresh_token rotating, so a used refresh token stops working;
 * client_credentials when `clientCredentials` allows it, one active token per app), GET
 * /oauth/authorize (approves, or denies when `denyNext`), and bearer checks for /graphql: an
 * expired or replaced access token is refused with a 401. App tokens act as the app user.
 */
export class FakeOAuth {
  clientId = "lin_oauth_fake_client";
  clientSecret = `lin_oauth_secret_${randomBytes(8).toString("hex")}`;
  /** Lifetime of access tokens from a code or a refresh (Linear: 24 h). */
  accessTokenTtlMs = DAY_MS;
  /** Lifetime of client_credentials tokens (Linear: 30 days). */
  clientCredentialsTtlMs = 30 * DAY_MS;
  /** Whether the app allows the client_credentials grant (a toggle in its settings on Linear). */
  clientCredentials = false;
  /** Delay before the token endpoint answers (to make concurrent refreshes overlap). */
  tokenDelayMs = 0;
  /** The next GET /oauth/authorize answers error=access_denied, as a cancelled install does. */
  denyNext = false;
  readonly tokenRequests: FakeTokenRequest[] = [];

  private readonly codes = new Map<string, { clientId: string; redirectUri: string; scope: string; expiresAt: number }>();
  private readonly access = new Map<string, AccessToken>();
  private readonly refresh = new Map<string, { userId: string; scope: string }>();
  private clientCredentialsToken: string | undefined;
  private appUser: string | undefined;

  constructor(private readonly store: LinearStore) {}

  /** The app user: what `viewer` is for an app token (created in the workspace on first use, as an install does). */
  get appUserId(): string {
    if (!this.appUser) {
      const user = this.store.seedUser({ name: "agent-workforce", email: "agent-workforce@oauthapp.linear.app" });
      (user as unknown as Record<string, unknown>).app = true;
      this.appUser = user.id;
    }
    return this.appUser;
  }

  /** An authorization code, as Linear's consent page would issue after an admin approves. */
  issueCode(p: { clientId?: string; redirectUri: string; scope?: string }): string {
    const code = `code_${randomBytes(12).toString("hex")}`;
    this.codes.set(code, { clientId: p.clientId ?? this.clientId, redirectUri: p.redirectUri, scope: p.scope ?? "read,write", expiresAt: Date.now() + 600_000 });
    return code;
  }

  /** Makes an access token expire now (the next /graphql call with it gets a 401). */
  expire(accessToken: string): void {
    const t = this.access.get(accessToken);
    if (t) t.expiresAt = Date.now() - 1;
  }

  /** Every access token issued so far expires now. */
  expireAll(): void {
    for (const t of this.access.values()) t.expiresAt = Date.now() - 1;
  }

  /** How many tokens of a grant were issued successfully. */
  granted(grant: Grant): number {
    return this.tokenRequests.filter((r) => r.grant === grant && r.status === 200).length;
  }

  /** Who a bearer token is; undefined for a token the OAuth side never issued. */
  bearer(authorization: string): FakeBearer | undefined {
    const token = authorization.replace(/^Bearer /, "");
    const t = this.access.get(token);
    if (!t) return undefined;
    if (t.revoked) return { ok: false, reason: "revoked" };
    if (t.expiresAt <= Date.now()) return { ok: false, reason: "expired" };
    return { ok: true, userId: t.userId };
  }

  /** GET /oauth/authorize: approves at once (or denies), redirecting to redirect_uri with code and state. */
  authorizeRedirect(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    const redirect = new URL(q.get("redirect_uri") ?? "");
    const state = q.get("state");
    if (this.denyNext) {
      this.denyNext = false;
      redirect.searchParams.set("error", "access_denied");
      redirect.searchParams.set("error_description", "The user denied the request");
    } else if (q.get("client_id") !== this.clientId || q.get("response_type") !== "code") {
      redirect.searchParams.set("error", "invalid_request");
    } else {
      redirect.searchParams.set("code", this.issueCode({ redirectUri: redirect.origin + redirect.pathname, scope: q.get("scope") ?? "" }));
    }
    if (state !== null) redirect.searchParams.set("state", state);
    res.writeHead(302, { location: redirect.toString() });
    res.end();
  }

  /** POST /oauth/token. */
  async token(req: IncomingMessage, body: string, res: ServerResponse): Promise<void> {
    if (this.tokenDelayMs) await new Promise((r) => setTimeout(r, this.tokenDelayMs));
    const form = new URLSearchParams(body);
    const grant = form.get("grant_type") ?? "";
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const [basicId, basicSecret] = basic ? Buffer.from(basic, "base64").toString("utf8").split(":") : [];
    const clientAuth = basic ? "basic" : form.has("client_secret") ? "form" : "none";
    const answer = (status: number, json: Record<string, unknown>) => {
      this.tokenRequests.push({ grant, status, clientAuth, ...(typeof json.error === "string" ? { error: json.error } : {}) });
      res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(json));
    };
    const clientId = basicId ?? form.get("client_id");
    const secret = basicSecret ?? form.get("client_secret");
    if (clientId !== this.clientId || secret !== this.clientSecret) return answer(401, { error: "invalid_client", error_description: "Client authentication failed" });
    if (grant === "authorization_code") return answer(...this.byCode(form));
    if (grant === "refresh_token") return answer(...this.byRefresh(form));
    if (grant === "client_credentials") {
      if (!this.clientCredentials) return answer(400, { error: "unauthorized_client", error_description: "Client does not support the client_credentials grant type" });
      // One active client_credentials token per app: a new one replaces the last.
      const old = this.clientCredentialsToken && this.access.get(this.clientCredentialsToken);
      if (old) old.revoked = true;
      const pair = this.mint(this.appUserId, form.get("scope") ?? "read", this.clientCredentialsTtlMs, false);
      this.clientCredentialsToken = pair.access_token as string;
      return answer(200, pair);
    }
    return answer(400, { error: "unsupported_grant_type", error_description: `Unsupported grant type ${grant}` });
  }

  private byCode(form: URLSearchParams): [number, Record<string, unknown>] {
    const code = this.codes.get(form.get("code") ?? "");
    if (!code || code.expiresAt < Date.now()) return [400, { error: "invalid_grant", error_description: "Invalid authorization code" }];
    this.codes.delete(form.get("code") ?? "");
    if (code.clientId !== form.get("client_id") && code.clientId !== this.clientId) return [400, { error: "invalid_grant", error_description: "Code was issued to another client" }];
    if (code.redirectUri !== form.get("redirect_uri")) return [400, { error: "invalid_grant", error_description: "redirect_uri does not match the authorization request" }];
    return [200, this.mint(this.appUserId, code.scope, this.accessTokenTtlMs, true)];
  }

  private byRefresh(form: URLSearchParams): [number, Record<string, unknown>] {
    const token = form.get("refresh_token") ?? "";
    const old = this.refresh.get(token);
    if (!old) return [400, { error: "invalid_grant", error_description: "Invalid refresh token" }];
    // Rotation: a refresh token works once.
    this.refresh.delete(token);
    return [200, this.mint(old.userId, old.scope, this.accessTokenTtlMs, true)];
  }

  private mint(userId: string, scope: string, ttlMs: number, withRefresh: boolean): Record<string, unknown> {
    const accessToken = `lin_oauth_${randomBytes(16).toString("hex")}`;
    this.access.set(accessToken, { userId, expiresAt: Date.now() + ttlMs, revoked: false });
    const pair: Record<string, unknown> = { access_token: accessToken, token_type: "Bearer", expires_in: ttlMs / 1000, scope };
    if (withRefresh) {
      const refreshToken = `lin_refresh_${randomBytes(16).toString("hex")}`;
      this.refresh.set(refreshToken, { userId, scope });
      pair.refresh_token = refreshToken;
    }
    return pair;
  }
}
