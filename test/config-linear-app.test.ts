import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { problems } from "./helpers/config.js";

const KEY = Buffer.alloc(32, 1).toString("base64");
const APP = { LINEAR_CLIENT_ID: "client-id", LINEAR_CLIENT_SECRET: "client-secret-value", TOKEN_ENCRYPTION_KEY: KEY };
const WORKER = { GITHUB_TOKEN: "ghp_x", ANTHROPIC_API_KEY: "sk-ant-x", GITHUB_WEBHOOK_SECRET: "g", LINEAR_WEBHOOK_SECRET: "l" };

describe("config: the Linear OAuth app", () => {
  it("builds the app's settings: token endpoint on LINEAR_API_URL's origin, redirect URI under PUBLIC_URL", () => {
    const c = loadConfig({ ...APP, LINEAR_API_URL: "http://127.0.0.1:4100/graphql", PUBLIC_URL: "https://agents.example.com/" });
    expect(c.publicUrl).toBe("https://agents.example.com");
    expect(c.linear.app).toEqual({
      clientId: "client-id",
      clientSecret: "client-secret-value",
      authorizeUrl: "https://linear.app/oauth/authorize",
      tokenUrl: "http://127.0.0.1:4100/oauth/token",
      redirectUri: "https://agents.example.com/oauth/linear/callback",
      encryptionKey: KEY,
      scopes: ["read", "write", "app:assignable", "app:mentionable"],
      allowedOrganizations: [],
    });
    expect(Object.isFrozen(c.linear.app)).toBe(true);
    expect(loadConfig({ ...APP, LINEAR_ALLOWED_ORGANIZATIONS: " acme, 0b1e-org-id ,," }).linear.app?.allowedOrganizations).toEqual(["acme", "0b1e-org-id"]);
    expect(loadConfig(APP).linear.app?.tokenUrl).toBe("https://api.linear.app/oauth/token");
  });

  it("the app stands in for LINEAR_API_KEY on a worker; an API key alone works as before", () => {
    expect(problems({ ...WORKER, ...APP }, ["server", "worker"])).toEqual([]);
    const keyOnly = loadConfig({ ...WORKER, LINEAR_API_KEY: "lin_api_x" }, ["server", "worker"]);
    expect(keyOnly.linear).toMatchObject({ apiKey: "lin_api_x", app: null });
    expect(problems(WORKER, ["worker"]).join("\n")).toMatch(/LINEAR_API_KEY is required to run the worker.*LINEAR_CLIENT_ID and LINEAR_CLIENT_SECRET/);
  });

  it("refuses the app's settings without TOKEN_ENCRYPTION_KEY, naming it and not the secret", () => {
    const found = problems({ LINEAR_CLIENT_ID: "client-id", LINEAR_CLIENT_SECRET: "client-secret-value" });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^TOKEN_ENCRYPTION_KEY is required with the Linear OAuth app settings/);
    expect(found.join("\n")).not.toContain("client-secret-value");
  });

  it("refuses an id without a secret and a secret without an id", () => {
    expect(problems({ LINEAR_CLIENT_ID: "id", TOKEN_ENCRYPTION_KEY: KEY })).toEqual([expect.stringMatching(/^LINEAR_CLIENT_SECRET is required with LINEAR_CLIENT_ID/)]);
    expect(problems({ LINEAR_CLIENT_SECRET: "s", TOKEN_ENCRYPTION_KEY: KEY })).toEqual([expect.stringMatching(/^LINEAR_CLIENT_ID is required with LINEAR_CLIENT_SECRET/)]);
  });

  it("refuses a TOKEN_ENCRYPTION_KEY that is not 32 bytes of base64, without printing it", () => {
    for (const bad of [Buffer.alloc(16, 2).toString("base64"), "not base64 at all!", "c2VjcmV0"]) {
      const found = problems({ ...APP, TOKEN_ENCRYPTION_KEY: bad });
      expect(found).toEqual([expect.stringMatching(/^TOKEN_ENCRYPTION_KEY: must be 32 random bytes in base64/)]);
      expect(found.join("\n")).not.toContain(bad);
    }
  });

  it("refuses a PUBLIC_URL or LINEAR_AUTHORIZE_URL that is not a usable URL", () => {
    expect(problems({ ...APP, PUBLIC_URL: "agents.example.com" })).toEqual([expect.stringMatching(/^PUBLIC_URL: must be an absolute http\(s\) URL/)]);
    expect(problems({ ...APP, PUBLIC_URL: "https://a.example.com/?x=1" })).toEqual([expect.stringMatching(/^PUBLIC_URL: must be a base URL without a query/)]);
    expect(problems({ ...APP, LINEAR_AUTHORIZE_URL: "nope" })).toEqual(["LINEAR_AUTHORIZE_URL: must be an absolute URL"]);
  });

  it("lists the app's problems together with every other bad variable", () => {
    const found = problems({ PORT: "eighty", LINEAR_CLIENT_ID: "id" });
    expect(found.map((p) => p.split(/[: ]/)[0])).toEqual(["PORT", "LINEAR_CLIENT_SECRET", "TOKEN_ENCRYPTION_KEY"]);
  });
});
