import { LinearClient } from "@linear/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { dueForRefresh } from "../../src/linear/oauth/app-auth.js";
import { InstallState, readCookie } from "../../src/linear/oauth/install-state.js";
import { TokenCipher } from "../../src/linear/oauth/token-cipher.js";
import { type LinearFake, startLinearFake } from "../fakes/linear/index.js";

const KEY = Buffer.alloc(32, 3).toString("base64");

describe("TokenCipher (AES-256-GCM)", () => {
  it("round-trips, hides the plaintext and opens only with the same key and organization", () => {
    const cipher = new TokenCipher(KEY);
    const sealed = cipher.seal('{"accessToken":"lin_oauth_secret"}', "org-1");
    expect(sealed).not.toContain("lin_oauth_secret");
    expect(sealed).not.toBe(cipher.seal('{"accessToken":"lin_oauth_secret"}', "org-1"));
    expect(cipher.open(sealed, "org-1")).toBe('{"accessToken":"lin_oauth_secret"}');
    expect(() => cipher.open(sealed, "org-2")).toThrow(/could not be decrypted/);
    expect(() => new TokenCipher(Buffer.alloc(32, 4).toString("base64")).open(sealed, "org-1")).toThrow(/TOKEN_ENCRYPTION_KEY differs/);
    const [v, iv, tag, body] = sealed.split(".");
    const at = body!.at(-2)!;
    const flipped = `${v}.${iv}.${tag}.${body!.slice(0, -2)}${at === "A" ? "B" : "A"}${body!.slice(-1)}`;
    expect(() => cipher.open(flipped, "org-1")).toThrow(/could not be decrypted/);
  });

  it("refuses an authentication tag that is not 16 bytes (GCM would otherwise accept a truncated one)", () => {
    const cipher = new TokenCipher(KEY);
    const [v, iv, tag, body] = cipher.seal("secret", "org-1").split(".");
    const short = Buffer.from(tag!, "base64url").subarray(0, 4).toString("base64url");
    expect(() => cipher.open(`${v}.${iv}.${short}.${body}`, "org-1")).toThrow(/authentication tag is not 16 bytes/);
    const long = Buffer.concat([Buffer.from(tag!, "base64url"), Buffer.alloc(1)]).toString("base64url");
    expect(() => cipher.open(`${v}.${iv}.${long}.${body}`, "org-1")).toThrow(/authentication tag is not 16 bytes/);
  });
});

describe("InstallState", () => {
  it("accepts its own fresh state with the browser's nonce, and names every other case", () => {
    let now = 1_000_000;
    const state = new InstallState(new TokenCipher(KEY).stateKey, () => now);
    const { state: s, nonce } = state.issue();
    expect(state.check(s, nonce)).toBeNull();
    expect(state.check(undefined, nonce)).toBe("missing");
    expect(state.check("nodot", nonce)).toBe("malformed");
    expect(state.check(`${s}x`, nonce)).toBe("forged");
    expect(new InstallState(new TokenCipher(Buffer.alloc(32, 9).toString("base64")).stateKey).check(s, nonce)).toBe("forged");
    expect(state.check(s, "someone-else")).toBe("other-browser");
    expect(state.check(s, undefined)).toBe("other-browser");
    now += 10 * 60_000 + 1;
    expect(state.check(s, nonce)).toBe("expired");
  });

  it("reads one cookie from a Cookie header", () => {
    expect(readCookie("a=1; awf_linear_oauth=abc%2D; b=2", "awf_linear_oauth")).toBe("abc-");
    expect(readCookie(undefined, "awf_linear_oauth")).toBeUndefined();
    // Not valid percent-encoding: as good as no cookie, never an exception (a 500).
    expect(readCookie("awf_linear_oauth=%E0", "awf_linear_oauth")).toBeUndefined();
  });
});

describe("dueForRefresh", () => {
  it("renews 5 minutes ahead of a day-long token, a quarter ahead of a short one", () => {
    const day = { obtainedAt: 0, expiresAt: 24 * 3600_000 };
    expect(dueForRefresh(day, day.expiresAt - 5 * 60_000 - 1)).toBe(false);
    expect(dueForRefresh(day, day.expiresAt - 5 * 60_000)).toBe(true);
    expect(dueForRefresh({ obtainedAt: 0, expiresAt: 2_000 }, 1_499)).toBe(false);
    expect(dueForRefresh({ obtainedAt: 0, expiresAt: 2_000 }, 1_500)).toBe(true);
  });
});

describe("Linear fake: OAuth", () => {
  let fake: LinearFake | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  const tokenUrl = () => new URL("/oauth/token", fake!.url).toString();
  const post = (form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(tokenUrl(), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(form) });

  it("binds codes to client and redirect URI, rotates refresh tokens, accepts HTTP Basic, and 401s an expired token", async () => {
    fake = await startLinearFake();
    const { oauth } = fake;
    const redirectUri = "https://svc.example/cb";
    const basic = { authorization: `Basic ${Buffer.from(`${oauth.clientId}:${oauth.clientSecret}`).toString("base64")}` };
    const wrongUri = await post({ grant_type: "authorization_code", code: oauth.issueCode({ redirectUri }), redirect_uri: "https://evil.example/cb" }, basic);
    expect(wrongUri.status).toBe(400);
    const res = await post({ grant_type: "authorization_code", code: oauth.issueCode({ redirectUri }), redirect_uri: redirectUri }, basic);
    const pair = (await res.json()) as { access_token: string; refresh_token: string; expires_in: number };
    expect(pair.expires_in).toBe(86_400);
    const client = new LinearClient({ accessToken: pair.access_token, apiUrl: fake.url });
    expect((await client.viewer).id).toBe(oauth.appUserId);

    const form = { client_id: oauth.clientId, client_secret: oauth.clientSecret };
    const renewed = (await (await post({ grant_type: "refresh_token", refresh_token: pair.refresh_token, ...form })).json()) as { refresh_token: string };
    expect(renewed.refresh_token).not.toBe(pair.refresh_token);
    const reused = await post({ grant_type: "refresh_token", refresh_token: pair.refresh_token, ...form });
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({ error: "invalid_grant" });
    expect(oauth.tokenRequests.map((r) => r.clientAuth)).toEqual(["basic", "basic", "form", "form"]);

    oauth.expire(pair.access_token);
    const expired = await fetch(fake.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${pair.access_token}` }, body: JSON.stringify({ query: "{ viewer { id } }" }) });
    expect(expired.status).toBe(401);
  });

  it("client_credentials: switchable, one active token per app", async () => {
    fake = await startLinearFake();
    const { oauth } = fake;
    const form = { grant_type: "client_credentials", scope: "read,write", client_id: oauth.clientId, client_secret: oauth.clientSecret };
    const off = await post(form);
    expect(off.status).toBe(400);
    expect(await off.json()).toEqual({ error: "unauthorized_client", error_description: "Client does not support the client_credentials grant type" });
    oauth.clientCredentials = true;
    const first = (await (await post(form)).json()) as { access_token: string; refresh_token?: string; expires_in: number };
    expect(first.refresh_token).toBeUndefined();
    expect(first.expires_in).toBe(30 * 86_400);
    await post(form);
    expect(oauth.bearer(`Bearer ${first.access_token}`)).toEqual({ ok: false, reason: "revoked" });
  });
});
