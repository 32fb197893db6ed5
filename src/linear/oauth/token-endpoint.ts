import { z } from "zod";
import type { LinearAppConfig } from "./settings.js";

/** How long a token request may take; the refresh lock outlives it. */
export const TOKEN_REQUEST_TIMEOUT_MS = 15_000;
/**
 * How long a refresh may take. Longer than other grants: Linear rotates the refresh token when it
 * handles the request, so giving up on a slow answer throws away the only valid refresh token.
 */
export const REFRESH_REQUEST_TIMEOUT_MS = 60_000;

/** What Linear's token endpoint granted. */
export interface TokenGrant {
  accessToken: string;
  /** Null for the client_credentials grant, which issues none. */
  refreshToken: string | null;
  /** Epoch ms. */
  expiresAt: number;
  scope: string[];
}

/** The grants this service uses. */
export type GrantType = "authorization_code" | "refresh_token" | "client_credentials";

/** Linear's token endpoint refused a grant; carries the OAuth error code, never a token. */
export class OAuthTokenError extends Error {
  constructor(
    readonly grant: GrantType,
    readonly status: number,
    readonly code: string,
    readonly description: string,
  ) {
    super(`Linear refused the ${grant} grant (HTTP ${status}${code ? `, ${code}` : ""})${description ? `: ${description}` : ""}`);
    this.name = "OAuthTokenError";
  }

  /** The app does not allow client credentials (a toggle in its settings on Linear). */
  get grantNotAllowed(): boolean {
    return /does not support the client_credentials grant/i.test(this.description) || this.code === "unsupported_grant_type" || this.code === "unauthorized_client";
  }

  /** The refresh token or code is spent, revoked or unknown: only a new install helps. */
  get invalidGrant(): boolean {
    return this.code === "invalid_grant";
  }
}

const grantBody = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().positive(),
  refresh_token: z.string().min(1).optional(),
  scope: z.union([z.string(), z.array(z.string())]).optional(),
});

const errorBody = z.object({ error: z.string().optional(), error_description: z.string().optional() }).passthrough();

/** Exchanges an authorization code from the install callback. */
export function exchangeCode(app: LinearAppConfig, code: string, redirectUri: string): Promise<TokenGrant> {
  return requestToken(app, "authorization_code", { code, redirect_uri: redirectUri });
}

/** Trades a refresh token for a new pair (Linear rotates the refresh token every time). */
export function refreshGrant(app: LinearAppConfig, refreshToken: string): Promise<TokenGrant> {
  return requestToken(app, "refresh_token", { refresh_token: refreshToken }, REFRESH_REQUEST_TIMEOUT_MS);
}

/** Asks for an app token with the client id and secret alone (one workspace, no browser). */
export function clientCredentialsGrant(app: LinearAppConfig): Promise<TokenGrant> {
  return requestToken(app, "client_credentials", { scope: app.scopes.join(",") });
}

async function requestToken(app: LinearAppConfig, grant: GrantType, params: Record<string, string>, timeoutMs = TOKEN_REQUEST_TIMEOUT_MS): Promise<TokenGrant> {
  // Client authentication by form parameters, which Linear documents for every grant.
  const form = new URLSearchParams({ grant_type: grant, ...params, client_id: app.clientId, client_secret: app.clientSecret });
  const res = await fetch(app.tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json", "user-agent": "agent-workforce" },
    body: form,
    // Its own timeout, never a job's signal: a job stopping must not abandon a rotation mid-flight.
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = errorBody.safeParse(json);
    const description = e.success ? (e.data.error_description ?? "") : text.slice(0, 200);
    throw new OAuthTokenError(grant, res.status, e.success ? (e.data.error ?? "") : "", description);
  }
  const ok = grantBody.safeParse(json);
  // Never echo the body: it holds the tokens.
  if (!ok.success) throw new OAuthTokenError(grant, res.status, "invalid_response", "the token endpoint answered without an access token and expiry");
  const scope = ok.data.scope ?? [];
  return {
    accessToken: ok.data.access_token,
    refreshToken: ok.data.refresh_token ?? null,
    expiresAt: Date.now() + ok.data.expires_in * 1000,
    scope: typeof scope === "string" ? scope.split(/[ ,]+/).filter(Boolean) : scope,
  };
}
