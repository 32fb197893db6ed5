import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { buildApp } from "../src/app.js";
import { createDeps } from "../src/deps.js";
import { createLogger, maskQuery } from "../src/logger.js";
import { testConfig } from "./helpers/config.js";
import { cleanPrefix, uniquePrefix } from "./helpers/redis.js";

describe("logs never carry secrets", () => {
  it("masks secret query parameters", () => {
    expect(maskQuery("/api/tasks?state=failed&token=s3cret&x=1")).toBe("/api/tasks?state=failed&token=[redacted]&x=1");
    expect(maskQuery("/?TOKEN=abc")).toBe("/?TOKEN=[redacted]");
  });

  it("the dashboard's ?token= sign-in and the Authorization header stay out of request logs", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _e, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const prefix = uniquePrefix("log");
    const token = `adm-${randomUUID()}`;
    const deps = await createDeps(testConfig({ REDIS_PREFIX: prefix, ADMIN_TOKEN: token, LOG_LEVEL: "info" }), {
      logger: createLogger({ level: "info", destination }),
    });
    const app = await buildApp(deps);
    try {
      await app.inject({ url: `/api/tasks?token=${token}` });
      await app.inject({ url: "/api/tasks", headers: { authorization: `Bearer ${token}` } });
      const text = lines.join("");
      expect(text).toContain("/api/tasks?token=[redacted]");
      expect(text).not.toContain(token);
    } finally {
      await app.close();
      await deps.close();
      await cleanPrefix(prefix);
    }
  });
});
