import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

/** Name of the cookie that keeps a browser signed in after it came with `?token=`. */
export const SESSION_COOKIE = "awf_admin";

const SESSION_DAYS = 30;

/**
 * The cookie carries a value derived from the token, not the token itself, so a leaked cookie
 * cannot be replayed as a Bearer token against other tools sharing ADMIN_TOKEN.
 */
export function sessionValue(token: string): string {
  return createHmac("sha256", token).update("agent-workforce dashboard session").digest("base64url");
}

/** Constant-time comparison of two strings of any length. */
function same(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** The value of one cookie in a Cookie header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

const wantsHtml = (req: FastifyRequest) => (req.headers.accept ?? "").includes("text/html");

const HINT =
  "This dashboard needs the admin token: send `Authorization: Bearer <ADMIN_TOKEN>`, or open the page once with `?token=<ADMIN_TOKEN>` (a cookie then keeps you signed in).";

function refuse(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.code(401).header("www-authenticate", 'Bearer realm="agent-workforce"');
  if (!wantsHtml(req)) return reply.send({ error: HINT });
  return reply
    .type("text/html; charset=utf-8")
    .send(
      `<!doctype html><meta charset="utf-8"><title>Admin token required</title>` +
        `<body style="font:15px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;color:#1c2330">` +
        `<h1 style="font-size:20px">Admin token required</h1><p>Open this page with <code>?token=&lt;ADMIN_TOKEN&gt;</code> ` +
        `once (a cookie then keeps you signed in), or send <code>Authorization: Bearer &lt;ADMIN_TOKEN&gt;</code>.</p></body>`,
    );
}

/**
 * An onRequest hook admitting requests that carry ADMIN_TOKEN as a Bearer token, as `?token=`
 * (which also sets an HttpOnly session cookie, and for a page load redirects to the same URL
 * without the token so it stays out of history and referrers) or as that cookie. Without an
 * ADMIN_TOKEN the hook admits everyone: the dashboard is then open to whoever reaches the port.
 */
export function adminGuard(token: string | undefined) {
  return async function requireAdmin(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (!token) return undefined;
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1];
    if (bearer !== undefined && same(bearer, token)) return undefined;
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (cookie !== null && same(cookie, sessionValue(token))) return undefined;
    const query = (req.query ?? {}) as Record<string, unknown>;
    if (typeof query.token !== "string" || !same(query.token, token)) return refuse(req, reply);

    // SameSite=Lax: the queue admin's POST actions never carry the cookie from another site.
    const secure = req.protocol === "https" ? "; Secure" : "";
    reply.header(
      "set-cookie",
      `${SESSION_COOKIE}=${sessionValue(token)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_DAYS * 86400}${secure}`,
    );
    if (req.method === "GET" && wantsHtml(req)) {
      const url = new URL(req.url, "http://dashboard.invalid");
      url.searchParams.delete("token");
      return reply.redirect(`${url.pathname}${url.search}`, 303);
    }
    return undefined;
  };
}
