import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { problems } from "../helpers/config.js";

const WORKER = { ANTHROPIC_API_KEY: "sk-ant-x", LINEAR_API_KEY: "lin_api_x", GITHUB_WEBHOOK_SECRET: "g", LINEAR_WEBHOOK_SECRET: "l" };
const PEM = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();

describe("config: the GitHub App", () => {
  it("stands in for GITHUB_TOKEN on a worker, with the key as given", () => {
    const c = loadConfig({ ...WORKER, GITHUB_APP_ID: "12345", GITHUB_APP_PRIVATE_KEY: PEM }, ["server", "worker"]);
    expect(c.github.token).toBeUndefined();
    expect(c.github.app).toEqual({ appId: "12345", privateKey: PEM });
    expect(Object.isFrozen(c.github.app)).toBe(true);
  });

  it("takes a PEM carried on one line with \\n escapes, as env files often hold it", () => {
    const escaped = PEM.trim().split("\n").join("\\n");
    expect(escaped).not.toContain("\n");
    const c = loadConfig({ GITHUB_APP_ID: "7", GITHUB_APP_PRIVATE_KEY: escaped });
    expect(c.github.app?.privateKey).toBe(PEM);
  });

  it("keeps the token path as it was: a token alone, no App", () => {
    const c = loadConfig({ ...WORKER, GITHUB_TOKEN: "ghp_x" }, ["server", "worker"]);
    expect(c.github).toMatchObject({ token: "ghp_x", app: null });
  });

  it("names the conflict when both the App and GITHUB_TOKEN are set", () => {
    const found = problems({ ...WORKER, GITHUB_TOKEN: "ghp_secretvalue", GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: PEM }, ["worker"]);
    expect(found).toEqual([expect.stringMatching(/^GITHUB_TOKEN and the GitHub App \(GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY\) are both set/)]);
    expect(found.join("\n")).not.toContain("ghp_secretvalue");
  });

  it("names what is missing: neither (GITHUB_TOKEN, mentioning the App), an id without a key, a key without an id", () => {
    expect(problems(WORKER, ["worker"])).toEqual([expect.stringMatching(/^GITHUB_TOKEN is required to run the worker: .*GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY/)]);
    expect(problems({ ...WORKER, GITHUB_APP_ID: "1" }, ["worker"])).toEqual([expect.stringMatching(/^GITHUB_APP_PRIVATE_KEY \(or GITHUB_APP_PRIVATE_KEY_FILE\) is required with GITHUB_APP_ID/)]);
    expect(problems({ ...WORKER, GITHUB_APP_PRIVATE_KEY: PEM }, ["worker"])).toEqual([expect.stringMatching(/^GITHUB_APP_ID is required with GITHUB_APP_PRIVATE_KEY/)]);
  });

  it("refuses a key that is no RSA PEM and an id that is no id, without printing the key", () => {
    const junk = "definitely-not-a-key-but-secret";
    expect(problems({ GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: junk })).toEqual([expect.stringMatching(/^GITHUB_APP_PRIVATE_KEY: not a PEM private key/)]);
    const broken = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----";
    const found = problems({ GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: broken });
    expect(found).toEqual([expect.stringMatching(/^GITHUB_APP_PRIVATE_KEY: not a usable PEM private key/)]);
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(problems({ GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: ec })).toEqual([expect.stringMatching(/^GITHUB_APP_PRIVATE_KEY: is a ec key, but GitHub Apps sign with RSA keys/)]);
    expect(problems({ GITHUB_APP_ID: "my app", GITHUB_APP_PRIVATE_KEY: PEM })).toEqual([expect.stringMatching(/^GITHUB_APP_ID: must be the App's id/)]);
    expect(problems({ GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: junk }).join("\n")).not.toContain(junk);
  });
});
