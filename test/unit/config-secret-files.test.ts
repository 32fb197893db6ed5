import { generateKeyPairSync } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { FILE_SECRETS } from "../../src/config-settings.js";
import { problems } from "../helpers/config.js";

let dir: string;
const file = (name: string) => path.join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "awf-secrets-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("config: secrets from files (<NAME>_FILE)", () => {
  it("reads every secret a worker and a server need from files, dropping the trailing newline", async () => {
    const values: Record<string, string> = {
      GITHUB_TOKEN: "ghp_fromfile",
      GITHUB_WEBHOOK_SECRET: "gh-hook",
      LINEAR_API_KEY: "lin_api_fromfile",
      LINEAR_WEBHOOK_SECRET: "lin-hook",
      ANTHROPIC_API_KEY: "sk-ant-fromfile",
      ADMIN_TOKEN: "admin-fromfile",
    };
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(values)) {
      await writeFile(file(name), `${value}\n`);
      env[`${name}_FILE`] = file(name);
    }
    const c = loadConfig(env, ["server", "worker"]);
    expect(c.github).toMatchObject({ token: "ghp_fromfile", webhookSecret: "gh-hook" });
    expect(c.linear).toMatchObject({ apiKey: "lin_api_fromfile", webhookSecret: "lin-hook" });
    expect(c.anthropic.apiKey).toBe("sk-ant-fromfile");
    expect(c.adminToken).toBe("admin-fromfile");
  });

  it("reads the App's private key and the Linear client secret from files", async () => {
    const pem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    await writeFile(file("app.pem"), pem);
    await writeFile(file("linear-secret"), "client-secret-value\r\n");
    const key = Buffer.alloc(32, 3).toString("base64");
    await writeFile(file("enc-key"), `${key}\n`);
    const c = loadConfig({
      GITHUB_APP_ID: "99",
      GITHUB_APP_PRIVATE_KEY_FILE: file("app.pem"),
      LINEAR_CLIENT_ID: "client-id",
      LINEAR_CLIENT_SECRET_FILE: file("linear-secret"),
      TOKEN_ENCRYPTION_KEY_FILE: file("enc-key"),
    });
    expect(c.github.app).toEqual({ appId: "99", privateKey: pem });
    expect(c.linear.app).toMatchObject({ clientSecret: "client-secret-value", encryptionKey: key });
  });

  it("covers the secrets the issue names", () => {
    for (const name of ["GITHUB_TOKEN", "GITHUB_WEBHOOK_SECRET", "GITHUB_APP_PRIVATE_KEY", "LINEAR_API_KEY", "LINEAR_WEBHOOK_SECRET", "LINEAR_CLIENT_SECRET", "ANTHROPIC_API_KEY"]) {
      expect(FILE_SECRETS).toContain(name);
    }
  });

  it("refuses a secret set both ways, an unreadable file and an empty one, all in one error, naming variable and path", async () => {
    await writeFile(file("token"), "ghp_one\n");
    await writeFile(file("empty"), "\n");
    await writeFile(file("locked"), "sk-ant-x\n");
    await chmod(file("locked"), 0o000);
    const missing = file("no-such-file");
    const found = problems({
      GITHUB_TOKEN: "ghp_two",
      GITHUB_TOKEN_FILE: file("token"),
      LINEAR_API_KEY_FILE: missing,
      LINEAR_WEBHOOK_SECRET_FILE: file("empty"),
      PORT: "eighty",
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^GITHUB_TOKEN and GITHUB_TOKEN_FILE are both set/),
        `LINEAR_API_KEY_FILE: cannot read ${missing} (ENOENT): mount the secret there or fix the path`,
        expect.stringMatching(new RegExp(`^LINEAR_WEBHOOK_SECRET_FILE: ${file("empty")} is empty`)),
        expect.stringMatching(/^PORT:/),
      ]),
    );
    expect(found).toHaveLength(4);
    expect(found.join("\n")).not.toMatch(/ghp_one|ghp_two/);
    // root reads any file whatever its mode; elsewhere the unreadable file is named with EACCES.
    if (process.getuid?.() !== 0) {
      expect(problems({ ANTHROPIC_API_KEY_FILE: file("locked") })).toEqual([`ANTHROPIC_API_KEY_FILE: cannot read ${file("locked")} (EACCES): mount the secret there or fix the path`]);
    }
  });

  it("reports a missing secret as before when its file variable is blank", () => {
    expect(problems({ GITHUB_TOKEN_FILE: "  ", ANTHROPIC_API_KEY: "k", LINEAR_API_KEY: "l" }, ["worker"])).toEqual([expect.stringMatching(/^GITHUB_TOKEN is required to run the worker/)]);
  });
});
