import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** How long an admin has between opening the install link and coming back from Linear. */
export const STATE_TTL_MS = 10 * 60_000;

/** The cookie that ties a state to the browser that asked for it. */
export const STATE_COOKIE = "awf_linear_oauth";

/** Why a state was refused, in words for the admin's page. */
export type StateProblem = "missing" | "malformed" | "forged" | "expired" | "other-browser";

/**
 * The OAuth `state`: a random nonce and an expiry, signed with HMAC-SHA256. Signed rather than
 * stored so that the callback may land on any server process without a Redis round trip; the
 * same nonce goes into a cookie, which binds the state to the browser that started the install
 * (a state alone could be replayed from another browser: RFC 6749 §10.12). Reuse within the
 * expiry gains nothing, because Linear accepts each authorization code once.
 */
export class InstallState {
  constructor(
    private readonly key: Buffer,
    private readonly now: () => number = Date.now,
  ) {}

  /** A fresh state and the nonce to set as the cookie. */
  issue(): { state: string; nonce: string } {
    const nonce = randomBytes(16).toString("base64url");
    const body = Buffer.from(JSON.stringify({ n: nonce, e: this.now() + STATE_TTL_MS })).toString("base64url");
    return { state: `${body}.${this.sign(body)}`, nonce };
  }

  /** Checks signature, expiry and the browser's cookie; null when the state is good. */
  check(state: string | undefined, cookieNonce: string | undefined): StateProblem | null {
    if (!state) return "missing";
    const [body, mac] = state.split(".");
    if (!body || !mac) return "malformed";
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "forged";
    let claims: { n?: unknown; e?: unknown };
    try {
      claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as typeof claims;
    } catch {
      return "malformed";
    }
    if (typeof claims.e !== "number" || typeof claims.n !== "string") return "malformed";
    if (claims.e < this.now()) return "expired";
    if (!cookieNonce || !safeEqual(cookieNonce, claims.n)) return "other-browser";
    return null;
  }

  private sign(body: string): string {
    return createHmac("sha256", this.key).update(body).digest("base64url");
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The value of one cookie from a Cookie header; undefined when absent or not valid percent-encoding. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) {
      try {
        return decodeURIComponent(part.slice(at + 1).trim());
      } catch {
        // A mangled cookie is as good as none: the callback then asks to start the install again.
        return undefined;
      }
    }
  }
  return undefined;
}
