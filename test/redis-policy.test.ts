import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeps } from "../src/deps.js";
import { testConfig } from "./helpers/config.js";
import { type OwnRedis, startOwnRedis } from "./helpers/redis-server.js";

let own: OwnRedis;
beforeAll(async () => {
  own = await startOwnRedis({ maxmemoryPolicy: "allkeys-lru" });
});
afterAll(async () => {
  await own?.stop();
});

describe("Redis eviction policy", () => {
  it("refuses to start on a Redis that may evict jobs, saying how to fix it", async () => {
    await expect(createDeps(testConfig({ REDIS_URL: own.url }))).rejects.toThrow(
      /maxmemory-policy "allkeys-lru".*Set it to noeviction/s,
    );
  });
});
