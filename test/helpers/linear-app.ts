import type { FastifyInstance } from "fastify";
import type { LinearFake } from "../fakes/linear/index.js";

/** TOKEN_ENCRYPTION_KEY for tests: 32 bytes, base64. */
export const TEST_TOKEN_KEY = Buffer.alloc(32, 7).toString("base64");
export const TEST_CLIENT_SECRET = "lin_oauth_test_secret";
export const TEST_PUBLIC_URL = "https://agents.example.test";
/** Where the service sends admins; the test, acting as the browser, goes to the fake instead. */
const AUTHORIZE_URL = "https://linear.example.test/oauth/authorize";

/** Settings that turn the service into the Linear OAuth app (merge into startWorld's env). */
export function linearAppEnv(): Record<string, string> {
  return {
    LINEAR_CLIENT_ID: "lin_oauth_fake_client",
    LINEAR_CLIENT_SECRET: TEST_CLIENT_SECRET,
    PUBLIC_URL: TEST_PUBLIC_URL,
    LINEAR_AUTHORIZE_URL: AUTHORIZE_URL,
    TOKEN_ENCRYPTION_KEY: TEST_TOKEN_KEY,
  };
}

/** Makes the fake's OAuth app the one linearAppEnv describes. */
export function registerApp(linear: LinearFake): void {
  linear.oauth.clientId = "lin_oauth_fake_client";
  linear.oauth.clientSecret = TEST_CLIENT_SECRET;
}

/** An install as a browser does it: /install → Linear's consent (the fake approves or denies) → /callback with the cookie. */
export async function installThroughBrowser(
  app: FastifyInstance,
  linear: LinearFake,
  tamper: (callback: URL) => void = () => undefined,
): Promise<{ status: number; body: string; authorize: URL }> {
  const start = await app.inject({ method: "GET", url: "/oauth/linear/install" });
  if (start.statusCode !== 302) throw new Error(`install answered ${start.statusCode}: ${start.body}`);
  const authorize = new URL(String(start.headers.location));
  const cookie = String([start.headers["set-cookie"]].flat()[0]).split(";")[0]!;
  const atFake = new URL(authorize.pathname + authorize.search, new URL(linear.url).origin);
  const consent = await fetch(atFake, { redirect: "manual" });
  const callback = new URL(consent.headers.get("location") ?? "");
  tamper(callback);
  const done = await app.inject({ method: "GET", url: callback.pathname + callback.search, headers: { cookie } });
  return { status: done.statusCode, body: done.body, authorize };
}
