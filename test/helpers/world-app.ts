/** The GitHub App a `githubApp` world runs as: the fake's App, its key, the service's environment, and its secrets. */
import { generateKeyPairSync } from "node:crypto";
import type { GitHubFake } from "../fakes/github/index.js";

/** The slug of the App a `githubApp` world runs as; it acts as `agent-workforce[bot]`. */
export const APP_SLUG = "agent-workforce";

/** The GitHub App a `githubApp` world runs as, installed on the world's owner with its repository. */
export interface WorldGitHubApp {
  appId: number;
  /** The App's client id (`Iv23…`), which GITHUB_APP_ID may name instead of the numeric id. */
  clientId: string;
  slug: string;
  botLogin: string;
  botUserId: number;
  installationId: number;
  /** The App's PEM private key (PKCS#1, as GitHub hands it out), for tests that configure another deployment. */
  privateKey: string;
}

/**
 * Runs the service as a GitHub App instead of GITHUB_TOKEN: the fake's App (key generated here)
 * installed on the owner with the repository, GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY set, and the
 * repository served over smart HTTP so git uses installation tokens. `tokenTtlMs`: installation token
 * life; `configureWith: "clientId"` sets GITHUB_APP_ID to the App's client id.
 */
export type WorldAppOption = boolean | { tokenTtlMs?: number; configureWith?: "appId" | "clientId" };

let appKeys: { privateKey: string; publicKey: string } | undefined;
/** The world App's RSA key pair, one per test process: generating one takes a while, and any key will do. */
export function appKeyPair(): { privateKey: string; publicKey: string } {
  return (appKeys ??= generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  }));
}

/** Enables the fake's App with the process's key and installs it on `owner`, `repo` only. */
export function installWorldApp(github: GitHubFake, option: WorldAppOption, owner: string, repo: string): WorldGitHubApp {
  const o = option === true || option === false ? {} : option;
  const keys = appKeyPair();
  const app = github.enableApp({ slug: APP_SLUG, publicKeyPem: keys.publicKey, ...(o.tokenTtlMs ? { tokenTtlMs: o.tokenTtlMs } : {}) });
  const { installationId } = github.installApp(owner, { repos: [repo] });
  return { ...app, installationId, privateKey: keys.privateKey };
}

/** The service's GitHub credentials: the App's id (or client id) and key, else the fake's token. */
export function githubCredentialsEnv(github: GitHubFake, app: WorldGitHubApp | null, option: WorldAppOption | undefined): Record<string, string> {
  if (!app) return { GITHUB_TOKEN: github.token };
  const byClientId = typeof option === "object" && option.configureWith === "clientId";
  return { GITHUB_APP_ID: byClientId ? app.clientId : String(app.appId), GITHUB_APP_PRIVATE_KEY: app.privateKey };
}

/** The base64 lines of a PEM's body: a leaked key may show up re-wrapped or JSON-escaped, a body line still verbatim. */
export function pemBodyLines(pem: string): string[] {
  return pem.split(/\r?\n/).filter((line) => line && !line.startsWith("-----"));
}

/** The App's secrets so far: its private key (whole and by body line), every installation token minted and every JWT sent. */
export function appSecrets(github: GitHubFake, app: WorldGitHubApp | null): string[] {
  if (!app) return [];
  return [app.privateKey, ...pemBodyLines(app.privateKey), ...github.state.installationTokens.keys(), ...github.state.appJwts];
}
