import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { LinearApp } from "../../src/linear/oauth/app-auth.js";
import { TokenCipher } from "../../src/linear/oauth/token-cipher.js";
import { TokenKeeper } from "../../src/linear/oauth/token-keeper.js";
import { type Installation, TokenStore } from "../../src/linear/oauth/token-store.js";
import { linearAppConfig } from "../../src/linear/oauth/settings.js";
import { createLogger } from "../../src/logger.js";
import { createRedis, deleteByPrefix } from "../../src/redis.js";
import { type LinearFake, startLinearFake } from "../fakes/linear/index.js";
import { registerApp, TEST_CLIENT_SECRET, TEST_PUBLIC_URL, TEST_TOKEN_KEY } from "../helpers/linear-app.js";
import { uniquePrefix } from "../helpers/redis.js";
import { type OwnRedis, startOwnRedis } from "../helpers/redis-server.js";

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Linear app token refresh across a Redis outage", () => {
  it("Redis goes away while Linear rotates the refresh token: the new pair is written through the patient connection once Redis is back", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "awf-token-save-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    // Persistence on: the installation must survive the restart, as a real Redis keeps it.
    const own: OwnRedis = await startOwnRedis({ persistDir: dir });
    cleanup.push(() => own.stop());
    const fake: LinearFake = await startLinearFake();
    cleanup.push(() => fake.close());
    registerApp(fake);
    const prefix = uniquePrefix("token-save");
    const connections: Redis[] = [createRedis(own.url, "producer"), createRedis(own.url, "patient")];
    for (const c of connections) c.on("error", () => undefined);
    cleanup.push(async () => {
      await deleteByPrefix(own.url, prefix).catch(() => undefined);
      for (const c of connections) c.disconnect();
    });
    const config = linearAppConfig({
      LINEAR_CLIENT_ID: "lin_oauth_fake_client",
      LINEAR_CLIENT_SECRET: TEST_CLIENT_SECRET,
      LINEAR_AUTHORIZE_URL: "https://linear.example.test/oauth/authorize",
      LINEAR_API_URL: fake.url,
      PUBLIC_URL: TEST_PUBLIC_URL,
      TOKEN_ENCRYPTION_KEY: TEST_TOKEN_KEY,
    })!;
    const logs: string[] = [];
    const logger = createLogger({ level: "info", destination: { write: (l: string) => void logs.push(l) } });
    const app = new LinearApp(config, { apiUrl: fake.url, redis: connections[0]!, patientRedis: connections[1]!, prefix, logger });
    const { organizationId: org } = await app.install(fake.oauth.issueCode({ redirectUri: config.redirectUri! }));
    const old = (await app.store.get(org))!;

    // Linear refuses the access token; the refresh is slow, and Redis is restarted meanwhile.
    fake.oauth.expire(old.accessToken);
    fake.oauth.tokenDelayMs = 1_000;
    const renewing = app.tokenSource(org).rejected(`Bearer ${old.accessToken}`);
    await sleep(200);
    await own.stop();
    await sleep(2_000);
    await own.start();
    const renewed = await renewing;
    expect(fake.oauth.granted("refresh_token")).toBe(1);

    const stored = (await app.store.get(org))!;
    expect(renewed).toBe(`Bearer ${stored.accessToken}`);
    expect(stored.refreshToken).not.toBe(old.refreshToken);
    // The stored refresh token is the one Linear now accepts: the next refresh works.
    fake.oauth.tokenDelayMs = 0;
    fake.oauth.expire(stored.accessToken);
    await app.tokenSource(org).rejected(renewed);
    expect(fake.oauth.tokenRequests.filter((r) => r.grant === "refresh_token").map((r) => r.status)).toEqual([200, 200]);
    expect(logs.join("\n")).not.toContain(stored.refreshToken!);
  }, 30_000);

  it("Redis still refuses after the retries: the pair is kept in memory (used from there), logged without the token, and saved once Redis is back", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "awf-token-keep-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const own = await startOwnRedis({ persistDir: dir });
    cleanup.push(() => own.stop());
    const prefix = uniquePrefix("token-keep");
    // A fail-fast connection, so the outage outlasts the keeper's attempts within the test.
    const redis = createRedis(own.url, "producer");
    redis.on("error", () => undefined);
    cleanup.push(async () => {
      await deleteByPrefix(own.url, prefix).catch(() => undefined);
      redis.disconnect();
    });
    if (redis.status !== "ready") await new Promise((r) => redis.once("ready", r));
    const store = new TokenStore(redis, prefix, new TokenCipher(TEST_TOKEN_KEY));
    const inst: Installation = {
      organizationId: "org-keep",
      organizationName: "Keep Org",
      appUserId: "app-user",
      grant: "authorization_code",
      scope: ["read"],
      expiresAt: Date.now() + 3600_000,
      obtainedAt: Date.now(),
      installedAt: new Date().toISOString(),
      accessToken: "lin_oauth_old_access",
      refreshToken: "lin_refresh_old",
    };
    await store.save(inst);
    const logs: string[] = [];
    const keeper = new TokenKeeper(store, createLogger({ level: "info", destination: { write: (l: string) => void logs.push(l) } }));

    await own.stop();
    const renewed = { ...inst, accessToken: "lin_oauth_new_access", refreshToken: "lin_refresh_new" };
    expect(await keeper.save(renewed)).toBe(true);
    expect(keeper.pending("org-keep")).toBe(renewed);
    expect(logs.join("\n")).toContain("the renewed Linear refresh token could not be saved to Redis");
    expect(logs.join("\n")).not.toContain("lin_refresh_new");

    await own.start();
    const until = Date.now() + 15_000;
    while ((await store.get("org-keep").catch(() => null))?.refreshToken !== "lin_refresh_new" && Date.now() < until) await sleep(200);
    expect((await store.get("org-keep"))?.refreshToken).toBe("lin_refresh_new");
    expect(keeper.pending("org-keep")).toBeUndefined();
    expect(logs.join("\n")).toContain("the renewed Linear refresh token is saved to Redis now");
  }, 30_000);
});
