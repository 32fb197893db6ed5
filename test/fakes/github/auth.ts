/**
 * Who a request to the GitHub fake is: a user token, an App installation token (`ghs_…`, acting as
 * `<slug>[bot]`) or an App's RS256 JWT, verified as GitHub does.
 */
import { verify } from "node:crypto";
import { ApiError } from "./http.js";
import type { AppRecord, GitHubState, InstallationRecord, InstallationTokenRecord } from "./state.js";
import { installationCovers } from "./state.js";

export type Identity =
  | { kind: "user"; login: string; key: string }
  | {
      kind: "installation";
      login: string;
      key: string;
      app: AppRecord;
      installation: InstallationRecord;
      token: InstallationTokenRecord;
    }
  | { kind: "app"; login: string; key: string; app: AppRecord };

/** GitHub's refusal of a token it does not know, or no longer accepts. */
export function badCredentials(): ApiError {
  return new ApiError(401, "Bad credentials");
}

const undecodable = () => new ApiError(401, "A JSON web token could not be decoded");
const EXPIRED =
  "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
const TOO_FAR = "'Expiration time' claim ('exp') is too far in the future";
const BAD_IAT = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
/** GitHub refuses a JWT valid for more than ten minutes. */
const MAX_JWT_SECONDS = 600;
/** Tolerated clock drift for `iat`, as GitHub accepts JWTs issued a little in the "future". */
const IAT_SKEW_SECONDS = 60;

function decodePart(part: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    if (value && typeof value === "object") return value as Record<string, unknown>;
  } catch {
    // falls through to the refusal
  }
  throw undecodable();
}

/** Verifies an App JWT: RS256 signature by the registered key, `iss` = App id or client id, `iat`/`exp` in range. */
export function verifyAppJwt(state: GitHubState, jwt: string, nowMs: number): AppRecord {
  const parts = jwt.split(".");
  if (parts.length !== 3) throw undecodable();
  const [h = "", p = "", sig = ""] = parts;
  const header = decodePart(h);
  const payload = decodePart(p);
  if (header.alg !== "RS256") throw undecodable();
  const iss = String(payload.iss);
  const app = [...state.apps.values()].find((a) => String(a.id) === iss || a.clientId === iss);
  if (!app) throw undecodable();
  const signed = verify("RSA-SHA256", Buffer.from(`${h}.${p}`), app.publicKey, Buffer.from(sig, "base64url"));
  if (!signed) throw undecodable();
  const now = Math.floor(nowMs / 1000);
  const { iat, exp } = payload;
  if (typeof iat !== "number" || !Number.isInteger(iat) || iat > now + IAT_SKEW_SECONDS) {
    throw new ApiError(401, BAD_IAT);
  }
  if (typeof exp !== "number" || exp <= now) throw new ApiError(401, EXPIRED);
  if (exp > now + MAX_JWT_SECONDS) throw new ApiError(401, TOO_FAR);
  return app;
}

function looksLikeJwt(token: string): boolean {
  return /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/.test(token);
}

/** The installation token's identity, or null when the token is not an installation token. */
export function installationIdentity(state: GitHubState, token: string, nowMs: number): Identity | null {
  const record = state.installationTokens.get(token);
  if (!record) return null;
  const installation = state.installations.get(record.installationId);
  const app = installation ? state.apps.get(installation.appId) : undefined;
  if (!installation || !app || record.expiresAt <= nowMs) throw badCredentials();
  return {
    kind: "installation",
    login: app.botLogin,
    key: `installation:${installation.id}`,
    app,
    installation,
    token: record,
  };
}

/** Resolves an `Authorization` header to an identity; throws GitHub's 401 otherwise. */
export function authenticate(state: GitHubState, header: string | undefined, nowMs: number): Identity {
  const match = /^(token|bearer)\s+(\S+)$/i.exec(header ?? "");
  const scheme = match?.[1]?.toLowerCase();
  const token = match?.[2];
  if (!token) throw badCredentials();
  const login = state.tokens.get(token);
  if (login) return { kind: "user", login, key: `user:${login.toLowerCase()}` };
  const installation = installationIdentity(state, token, nowMs);
  if (installation) return installation;
  // GitHub takes a JWT only as `Bearer`; `token <JWT>` is refused as an unknown token.
  if (scheme === "bearer" && looksLikeJwt(token)) {
    const app = verifyAppJwt(state, token, nowMs);
    state.appJwts.add(token);
    return { kind: "app", login: app.botLogin, key: `app:${app.id}`, app };
  }
  throw badCredentials();
}

/** Whether the identity may reach `owner/repo` (installation tokens only reach their repositories). */
export function reaches(identity: Identity, owner: string, repo: string): boolean {
  if (identity.kind !== "installation") return true;
  const { installation, token } = identity;
  if (!installationCovers(installation, owner, repo)) return false;
  return token.repos === null || token.repos.includes(repo.toLowerCase());
}
