// Settings of the Linear OAuth app (actor=app), parsed for src/config.ts, which alone reads the
// environment. Values of secrets never appear in a problem.
import { z } from "zod";

/** The scopes the app asks for: read and write, and to be delegated issues and @mentioned as an agent. */
export const APP_SCOPES = ["read", "write", "app:assignable", "app:mentionable"] as const;

/** The path Linear sends the installing admin back to, under PUBLIC_URL. */
export const CALLBACK_PATH = "/oauth/linear/callback";

/** The OAuth app's settings, present when LINEAR_CLIENT_ID and LINEAR_CLIENT_SECRET are set. */
export interface LinearAppConfig {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly authorizeUrl: string;
  /** `/oauth/token` on the origin of LINEAR_API_URL. */
  readonly tokenUrl: string;
  /** PUBLIC_URL + /oauth/linear/callback; undefined without PUBLIC_URL (no browser install then). */
  readonly redirectUri: string | undefined;
  /** TOKEN_ENCRYPTION_KEY as given (base64 of 32 bytes); a string so the config can stay frozen. */
  readonly encryptionKey: string;
  readonly scopes: readonly string[];
  /** LINEAR_ALLOWED_ORGANIZATIONS: organization ids or URL keys that may install or use the app; empty = any. */
  readonly allowedOrganizations: readonly string[];
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** TOKEN_ENCRYPTION_KEY: 32 random bytes, base64 (standard or URL-safe). */
export const encryptionKey = z
  .string()
  .trim()
  .optional()
  .transform((v) => v || undefined)
  .refine((v) => v === undefined || (BASE64.test(v) && Buffer.from(v, "base64").length === 32), {
    message: "must be 32 random bytes in base64 (e.g. the output of `openssl rand -base64 32`)",
  });

/** PUBLIC_URL: the service's public http(s) base URL, stored without a trailing slash. */
export const publicUrl = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v ? v.replace(/\/+$/, "") : undefined))
  .refine((v) => v === undefined || (URL.canParse(v) && /^https?:$/.test(new URL(v).protocol)), {
    message: "must be an absolute http(s) URL, e.g. https://agents.example.com",
  })
  .refine((v) => v === undefined || !URL.canParse(v) || (!new URL(v).search && !new URL(v).hash), {
    message: "must be a base URL without a query or fragment",
  });

type Raw = Record<string, string | undefined>;
const present = (env: Raw, name: string) => Boolean(env[name]?.trim());

/** What is missing for the OAuth app: the id and the secret go together, and both need TOKEN_ENCRYPTION_KEY. */
export function linearAppProblems(env: Raw): string[] {
  const id = present(env, "LINEAR_CLIENT_ID");
  const secret = present(env, "LINEAR_CLIENT_SECRET");
  if (!id && !secret) return [];
  const problems: string[] = [];
  if (!id) problems.push("LINEAR_CLIENT_ID is required with LINEAR_CLIENT_SECRET: the client id of the Linear OAuth app");
  if (!secret) problems.push("LINEAR_CLIENT_SECRET is required with LINEAR_CLIENT_ID: the client secret of the Linear OAuth app");
  if (!present(env, "TOKEN_ENCRYPTION_KEY")) {
    problems.push(
      "TOKEN_ENCRYPTION_KEY is required with the Linear OAuth app settings (LINEAR_CLIENT_ID, LINEAR_CLIENT_SECRET): " +
        "the app's tokens are stored encrypted with it; set 32 random bytes in base64, e.g. `openssl rand -base64 32`",
    );
  }
  return problems;
}

/** The app's config from parsed settings; null unless the app is configured (problems are reported above). */
export function linearAppConfig(e: {
  LINEAR_CLIENT_ID?: string | undefined;
  LINEAR_CLIENT_SECRET?: string | undefined;
  LINEAR_AUTHORIZE_URL: string;
  LINEAR_API_URL: string;
  PUBLIC_URL?: string | undefined;
  TOKEN_ENCRYPTION_KEY?: string | undefined;
  LINEAR_ALLOWED_ORGANIZATIONS?: string | undefined;
}): LinearAppConfig | null {
  if (!e.LINEAR_CLIENT_ID || !e.LINEAR_CLIENT_SECRET || !e.TOKEN_ENCRYPTION_KEY) return null;
  return {
    clientId: e.LINEAR_CLIENT_ID,
    clientSecret: e.LINEAR_CLIENT_SECRET,
    authorizeUrl: e.LINEAR_AUTHORIZE_URL,
    tokenUrl: new URL("/oauth/token", e.LINEAR_API_URL).toString(),
    redirectUri: e.PUBLIC_URL ? `${e.PUBLIC_URL}${CALLBACK_PATH}` : undefined,
    encryptionKey: e.TOKEN_ENCRYPTION_KEY,
    scopes: [...APP_SCOPES],
    allowedOrganizations: (e.LINEAR_ALLOWED_ORGANIZATIONS ?? "").split(",").map((o) => o.trim()).filter(Boolean),
  };
}
