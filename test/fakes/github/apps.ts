/** GitHub Apps in the fake: registering an App, installing it on an account, minting installation tokens. */
import { createPublicKey, randomBytes } from "node:crypto";
import { userObject } from "./serializers.js";
import type { AppPermissions, AppRecord, GitHubState, InstallationRecord, InstallationTokenRecord } from "./state.js";
import { newId, timestamp, userId } from "./state.js";

const WEB = "https://github.com";
const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** What agent-workforce's App asks for (README's "Create the GitHub App"). */
export const DEFAULT_APP_PERMISSIONS: AppPermissions = {
  checks: "write",
  contents: "write",
  issues: "write",
  metadata: "read",
  pull_requests: "write",
  statuses: "write",
};
export const DEFAULT_APP_EVENTS = [
  "check_run",
  "issue_comment",
  "pull_request",
  "pull_request_review",
  "pull_request_review_comment",
  "push",
];

export interface EnableAppOptions {
  /** Defaults to a fresh id. */
  appId?: number | string;
  slug: string;
  /** PEM (SPKI or PKCS#1) of the key the App signs its JWTs with. */
  publicKeyPem: string;
  /** Lifetime of installation tokens; GitHub's is one hour. */
  tokenTtlMs?: number;
  permissions?: AppPermissions;
  events?: string[];
  /** Account that registered the App (the `owner` of GET /app). */
  owner?: string;
}

export interface EnabledApp {
  appId: number;
  slug: string;
  botLogin: string;
  botUserId: number;
  /** The App's client id (`Iv23…`), which GitHub also accepts as a JWT's `iss`. */
  clientId: string;
}

export interface InstallAppOptions {
  /** Repository names the installation may reach, or "all" (default) of the account's. */
  repos?: string[] | "all";
  /** Defaults to the App's permissions. */
  permissions?: AppPermissions;
  accountType?: "Organization" | "User";
  /** Which App, when more than one is enabled; defaults to the last enabled. */
  appId?: number;
}

/** Registers an App whose JWTs the fake verifies with `publicKeyPem`. */
export function enableApp(state: GitHubState, o: EnableAppOptions): EnabledApp {
  const id = o.appId === undefined ? newId(state) : Number(o.appId);
  if (!Number.isInteger(id) || id <= 0) throw new Error(`GitHub fake: appId must be a positive integer, got ${String(o.appId)}`);
  const botLogin = `${o.slug}[bot]`;
  const app: AppRecord = {
    id,
    slug: o.slug,
    name: o.slug,
    publicKey: createPublicKey(o.publicKeyPem),
    tokenTtlMs: o.tokenTtlMs ?? 3_600_000,
    botLogin,
    botUserId: userId(botLogin),
    owner: o.owner ?? "app-owner",
    clientId: `Iv23${randomBytes(8).toString("hex")}`,
    permissions: { ...(o.permissions ?? DEFAULT_APP_PERMISSIONS) },
    events: [...(o.events ?? DEFAULT_APP_EVENTS)],
    createdAt: timestamp(),
  };
  state.apps.set(id, app);
  return { appId: id, slug: app.slug, botLogin, botUserId: app.botUserId, clientId: app.clientId };
}

/** Installs the App on `owner`; repositories outside `repos` answer 404 on GET /repos/{o}/{r}/installation. */
export function installApp(state: GitHubState, owner: string, o: InstallAppOptions = {}): { installationId: number } {
  const app = o.appId === undefined ? [...state.apps.values()].at(-1) : state.apps.get(o.appId);
  if (!app) throw new Error("GitHub fake: no App to install; call enableApp first");
  const installation: InstallationRecord = {
    id: newId(state),
    appId: app.id,
    account: owner,
    accountType: o.accountType ?? "Organization",
    repos: o.repos === undefined || o.repos === "all" ? "all" : o.repos.map((r) => r.toLowerCase()),
    permissions: { ...(o.permissions ?? app.permissions) },
    createdAt: timestamp(),
  };
  state.installations.set(installation.id, installation);
  return { installationId: installation.id };
}

function requireInstallationRecord(state: GitHubState, installationId: number): InstallationRecord {
  const inst = state.installations.get(installationId);
  if (!inst) throw new Error(`GitHub fake: no installation ${installationId}`);
  return inst;
}

/**
 * Removes the installation as an uninstall does: its tokens then answer 401 "Bad credentials", minting
 * one 404, and GET /repos/{o}/{r}/installation 404 for its repositories.
 */
export function uninstallApp(state: GitHubState, installationId: number): void {
  requireInstallationRecord(state, installationId);
  state.installations.delete(installationId);
}

/** Changes which repositories the installation reaches, as an owner editing its repository selection does. */
export function setInstallationRepos(state: GitHubState, installationId: number, repos: string[] | "all"): void {
  const inst = requireInstallationRecord(state, installationId);
  inst.repos = repos === "all" ? "all" : repos.map((r) => r.toLowerCase());
}

/** A token in GitHub's classic installation format: `ghs_` and 36 base62 characters. */
function newInstallationToken(): string {
  const bytes = randomBytes(36);
  return `ghs_${[...bytes].map((b) => BASE62[b % BASE62.length]).join("")}`;
}

export function mintInstallationToken(
  state: GitHubState,
  installation: InstallationRecord,
  scope: { repos: string[] | null; permissions: AppPermissions },
  nowMs: number,
): { token: string; record: InstallationTokenRecord } {
  const app = state.apps.get(installation.appId);
  if (!app) throw new Error(`GitHub fake: installation ${installation.id} has no App`);
  const record: InstallationTokenRecord = {
    installationId: installation.id,
    expiresAt: nowMs + app.tokenTtlMs,
    repos: scope.repos,
    permissions: scope.permissions,
  };
  const token = newInstallationToken();
  state.installationTokens.set(token, record);
  return { token, record };
}

/** Every installation token issued so far expires now. */
export function expireInstallationTokens(state: GitHubState, nowMs: number): void {
  for (const record of state.installationTokens.values()) record.expiresAt = Math.min(record.expiresAt, nowMs - 1);
}

export function appObject(state: GitHubState, app: AppRecord, apiUrl: string): Record<string, unknown> {
  const installations = [...state.installations.values()].filter((i) => i.appId === app.id).length;
  return {
    id: app.id,
    slug: app.slug,
    node_id: `A_${Buffer.from(String(app.id)).toString("base64url")}`,
    client_id: app.clientId,
    owner: userObject(app.owner, apiUrl),
    name: app.name,
    description: "",
    external_url: `${WEB}/${app.owner}`,
    html_url: `${WEB}/apps/${app.slug}`,
    created_at: app.createdAt,
    updated_at: app.createdAt,
    permissions: app.permissions,
    events: app.events,
    installations_count: installations,
  };
}

export function installationObject(state: GitHubState, inst: InstallationRecord, apiUrl: string): Record<string, unknown> {
  const app = state.apps.get(inst.appId);
  const org = inst.accountType === "Organization";
  return {
    id: inst.id,
    account: { ...userObject(inst.account, apiUrl), type: inst.accountType },
    repository_selection: inst.repos === "all" ? "all" : "selected",
    access_tokens_url: `${apiUrl}/app/installations/${inst.id}/access_tokens`,
    repositories_url: `${apiUrl}/installation/repositories`,
    html_url: org
      ? `${WEB}/organizations/${inst.account}/settings/installations/${inst.id}`
      : `${WEB}/settings/installations/${inst.id}`,
    app_id: inst.appId,
    app_slug: app?.slug,
    target_id: userId(inst.account),
    target_type: inst.accountType,
    permissions: inst.permissions,
    events: app?.events ?? [],
    created_at: inst.createdAt,
    updated_at: inst.createdAt,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  };
}
