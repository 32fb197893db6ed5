/**
 * Git over smart HTTP for repositories added with `http: true`: `git http-backend` run as a CGI
 * script, behind GitHub's token check (Basic `x-access-token:<token>`). GitHub lets anyone clone a
 * public repository; the fake asks for a token every time, so a push or fetch without one shows up in tests.
 */
import { spawn } from "node:child_process";
import type { IncomingMessage, ServerResponse } from "node:http";
import { basename, dirname } from "node:path";
import { installationIdentity, reaches } from "./auth.js";
import { grants } from "./permissions.js";
import { permissionOf } from "./serializers.js";
import type { AppPermissions, GitHubState, RepoRecord } from "./state.js";
import { repoKey } from "./state.js";

export type GitService = "git-upload-pack" | "git-receive-pack";

export interface GitRequestRecord {
  owner: string;
  repo: string;
  service: GitService | null;
  /** `advertise` is GET info/refs; `rpc` the POST that fetches or pushes. */
  phase: "advertise" | "rpc";
  /** The password of the Basic credential (the token), or null when none was sent. */
  token: string | null;
  /** Who the token acts as (`<slug>[bot]` for an installation token), or null when refused. */
  login: string | null;
  status: number;
}

const GIT_PATH = /^\/([^/]+)\/([^/]+?)\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/;

/** The repository and CGI path of a smart HTTP request, or null when the path is not git's. */
export function matchGitPath(pathname: string): { owner: string; repo: string; rest: string } | null {
  const m = GIT_PATH.exec(pathname);
  if (!m) return null;
  return { owner: decodeURIComponent(m[1] ?? ""), repo: decodeURIComponent(m[2] ?? ""), rest: m[3] ?? "" };
}

function basicCredential(header: string | undefined): { user: string; password: string } | null {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? "");
  if (!m) return null;
  const decoded = Buffer.from(m[1] ?? "", "base64").toString("utf8");
  const i = decoded.indexOf(":");
  return i < 0 ? null : { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/** Who the credential acts as for this repository (with an installation token's permissions), or null when GitHub would answer 401. */
function gitLogin(
  state: GitHubState,
  repo: RepoRecord,
  cred: { user: string; password: string },
): { login: string; permissions: AppPermissions | null } | null {
  const user = state.tokens.get(cred.password);
  if (user) return { login: user, permissions: null };
  let identity;
  try {
    identity = installationIdentity(state, cred.password, Date.now());
  } catch {
    return null; // expired
  }
  if (identity?.kind !== "installation" || cred.user !== "x-access-token") return null;
  return reaches(identity, repo.owner, repo.name) ? { login: identity.login, permissions: identity.token.permissions } : null;
}

/** Whether the caller may run `service`: a push needs write access, and an installation token its Contents permission. */
function allowed(state: GitHubState, repo: RepoRecord, who: { login: string; permissions: AppPermissions | null }, service: GitService | null): boolean {
  const push = service === "git-receive-pack";
  if (who.permissions && !grants(who.permissions, [{ name: "contents", level: push ? "write" : "read" }])) return false;
  return !push || ["write", "maintain", "admin"].includes(permissionOf(state, repo, who.login));
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers }).end(text);
}

/** Serves one smart HTTP request; false when the path is not a git path (the REST router takes it). */
export function serveGit(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  state: GitHubState,
  records: GitRequestRecord[],
): boolean {
  const target = matchGitPath(url.pathname);
  if (!target) return false;
  const phase = target.rest === "info/refs" ? "advertise" : "rpc";
  const service = (phase === "advertise" ? url.searchParams.get("service") : target.rest) as GitService | null;
  const cred = basicCredential(req.headers.authorization);
  const record: GitRequestRecord = { owner: target.owner, repo: target.repo, service, phase, token: cred?.password ?? null, login: null, status: 0 };
  records.push(record);
  const repo = state.repos.get(repoKey(target.owner, target.repo));
  const who = repo && cred ? gitLogin(state, repo, cred) : null;
  // Without valid credentials GitHub does not say whether the repository exists.
  if (!who || !repo) {
    record.status = 401;
    plain(res, 401, "Invalid username or token. Password authentication is not supported for Git operations.\n", {
      "www-authenticate": 'Basic realm="GitHub"',
    });
    req.resume();
    return true;
  }
  const { login } = who;
  record.login = login;
  if (!repo.http || !repo.gitDir) {
    record.status = 404;
    plain(res, 404, "Repository not found.\n");
    req.resume();
    return true;
  }
  if (!allowed(state, repo, who, service)) {
    record.status = 403;
    plain(res, 403, service === "git-receive-pack" ? "Write access to repository not granted.\n" : "Read access to repository not granted.\n");
    req.resume();
    return true;
  }
  runBackend(req, res, url, repo.gitDir, target.rest, login, record);
  return true;
}

function backendEnv(req: IncomingMessage, url: URL, gitDir: string, rest: string, login: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_PROJECT_ROOT: dirname(gitDir),
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: `/${basename(gitDir)}/${rest}`,
    QUERY_STRING: url.search.replace(/^\?/, ""),
    REQUEST_METHOD: req.method ?? "GET",
    CONTENT_TYPE: req.headers["content-type"] ?? "",
    // http-backend enables receive-pack only for an authenticated user.
    REMOTE_USER: login,
    REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
  };
  if (req.headers["content-length"]) env.CONTENT_LENGTH = req.headers["content-length"];
  if (req.headers["content-encoding"]) env.HTTP_CONTENT_ENCODING = req.headers["content-encoding"];
  const protocol = req.headers["git-protocol"];
  if (typeof protocol === "string") env.GIT_PROTOCOL = protocol;
  return env;
}

/** Splits the CGI header block off http-backend's output and streams the rest as the response body. */
function runBackend(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  gitDir: string,
  rest: string,
  login: string,
  record: GitRequestRecord,
): void {
  const child = spawn("git", ["http-backend"], { env: backendEnv(req, url, gitDir, rest, login) });
  let head = Buffer.alloc(0);
  let started = false;
  const stderr: Buffer[] = [];
  child.stderr.on("data", (c: Buffer) => stderr.push(c));
  child.stdout.on("data", (chunk: Buffer) => {
    if (started) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const text = head.toString("latin1");
    const crlf = text.indexOf("\r\n\r\n");
    const lf = text.indexOf("\n\n");
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
    if (end < 0) return;
    started = true;
    const headers: Record<string, string> = {};
    let status = 200;
    for (const line of text.slice(0, end).split(/\r?\n/)) {
      const i = line.indexOf(":");
      if (i <= 0) continue;
      const name = line.slice(0, i).trim().toLowerCase();
      const value = line.slice(i + 1).trim();
      if (name === "status") status = Number.parseInt(value, 10) || 200;
      else headers[name] = value;
    }
    record.status = status;
    res.writeHead(status, headers);
    res.write(head.subarray(end));
  });
  child.on("error", (err) => {
    record.status = 500;
    if (!res.headersSent) plain(res, 500, `git http-backend failed to start: ${err.message}\n`);
    else res.destroy(err);
  });
  child.on("close", (code) => {
    if (!started) {
      record.status = 500;
      plain(res, 500, `git http-backend exited ${code}: ${Buffer.concat(stderr).toString("utf8")}\n`);
    } else res.end();
  });
  req.pipe(child.stdin);
  child.stdin.on("error", () => {
    // http-backend may stop reading after an error it reports in its output.
  });
}
