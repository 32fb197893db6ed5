import { existsSync, lstatSync, readlinkSync } from "node:fs";
import path from "node:path";

/** What one job's commands may see: everything else of the host is absent. */
export interface SandboxScope {
  /** The job's checkout: read-write, and the working directory. */
  worktree: string;
  /** The job's own HOME: read-write. */
  home: string;
  /** The job's own temporary directory, mounted at /tmp: read-write. */
  tmp: string;
  /** The worktree's git metadata, read-only, so `git status` and `git diff` work inside. */
  git?: { mirror: string; adminDir: string };
}

/** Where the egress proxy's socket appears inside the sandbox, and the port socat offers it on. */
export const PROXY_SOCKET_INSIDE = "/run/agent-workforce/egress.sock";
export const PROXY_PORT_INSIDE = 3128;

// Top-level directories that are symlinks into /usr on merged-/usr systems (Debian 12) and real
// directories elsewhere.
const SYSTEM_DIRS = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

// What toolchains read from /etc, and nothing else of it: /etc also holds service
// configuration (a Redis password in redis.conf, a database's pg_hba.conf) that agents must not see.
const ETC_ENTRIES = [
  "alternatives", "ssl", "ca-certificates", "ca-certificates.conf", "pki", "crypto-policies",
  "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "nsswitch.conf", "passwd", "group", "hosts",
  "resolv.conf", "host.conf", "gai.conf", "protocols", "services", "localtime", "timezone",
  "mime.types", "os-release", "debian_version", "lsb-release", "magic", "magic.mime",
  "java-17-openjdk", "java-21-openjdk", "python3", "perl", "profile.d", "subversion",
];

/**
 * The bubblewrap arguments that run a command in a scope: new user, PID, mount, network, IPC,
 * UTS and cgroup namespaces; no capabilities; read-only system directories; the scope's
 * directories read-write; its own /proc; killed with the worker. Pure, so it can be read and
 * tested on its own.
 */
export function bwrapArgs(p: {
  scope: SandboxScope;
  /** Extra read-only directories, e.g. PATH entries outside /usr. */
  readOnly: readonly string[];
  /** The egress proxy's socket on the host, or null for no network at all. */
  proxySocket: string | null;
  /** What one program run in the jail needs besides the scope (see JailExtras). */
  extras?: JailExtras;
}): string[] {
  const { scope } = p;
  // A user namespace always (not "-try"), and none nested inside it: namespaces are where kernel
  // privilege-escalation bugs live.
  const args = ["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--hostname", "agent-sandbox"];
  args.push("--ro-bind", "/usr", "/usr");
  for (const dir of SYSTEM_DIRS) args.push(...systemDir(dir));
  for (const entry of ETC_ENTRIES) args.push("--ro-bind-try", `/etc/${entry}`, `/etc/${entry}`);
  // /etc/ssl holds the CA certificates tools need, and on some hosts private keys beside them.
  if (existsSync("/etc/ssl/private")) args.push("--tmpfs", "/etc/ssl/private");
  for (const dir of p.readOnly) args.push("--ro-bind-try", dir, dir);
  args.push("--proc", "/proc", "--dev", "/dev");
  // /tmp first: in tests the other directories live under the host's /tmp, and a later mount
  // over /tmp would hide them.
  args.push("--bind", scope.tmp, "/tmp", "--bind", scope.home, scope.home, "--bind", scope.worktree, scope.worktree);
  if (scope.git) {
    const others = path.dirname(scope.git.adminDir);
    // The mirror read-only, with the other jobs' worktree metadata hidden under an empty tmpfs.
    args.push("--ro-bind", scope.git.mirror, scope.git.mirror, "--tmpfs", others, "--ro-bind", scope.git.adminDir, scope.git.adminDir);
  }
  if (p.proxySocket) args.push("--bind", p.proxySocket, PROXY_SOCKET_INSIDE);
  for (const f of p.extras?.files ?? []) args.push("--ro-bind", f.host, f.inside);
  for (const b of p.extras?.sockets ?? []) args.push("--bind", b.host, bridgeSocketInside(b.port));
  args.push("--chdir", scope.worktree);
  return args;
}

function systemDir(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const stat = lstatSync(dir);
  if (stat.isSymbolicLink()) return ["--symlink", readlinkSync(dir), dir];
  return ["--ro-bind", dir, dir];
}

/**
 * What one program run in a jail needs besides the scope: e.g. an agent runtime's binary, and a
 * host service it may talk to (the model gateway). The sandbox without isolation ignores them.
 */
export interface JailExtras {
  /** Host files bound read-only at `inside` (a path outside the scope, e.g. under /opt). */
  files?: ReadonlyArray<{ host: string; inside: string }>;
  /** Host Unix sockets offered on the sandbox's own loopback at `port` through socat. */
  sockets?: ReadonlyArray<{ host: string; port: number }>;
}

/** Where a bridged host socket appears inside the sandbox. */
export function bridgeSocketInside(port: number): string {
  return `/run/agent-workforce/bridge-${port}.sock`;
}

/**
 * The bash prologue that offers the proxy socket on the sandbox's own loopback, waits until it
 * answers, then execs the command ("$@").
 */
export function proxyPrologue(): string {
  return bridgePrologue([{ socket: PROXY_SOCKET_INSIDE, port: PROXY_PORT_INSIDE }]);
}

/** The bash prologue that offers each socket on its loopback port, waits until all answer, then execs "$@". */
export function bridgePrologue(bridges: ReadonlyArray<{ socket: string; port: number }>): string {
  return [
    ...bridges.flatMap(({ socket, port }) => [
      `socat TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${socket} >/dev/null 2>&1 &`,
      `for _ in $(seq 1 300); do (: </dev/tcp/127.0.0.1/${port}) 2>/dev/null && break; sleep 0.01; done`,
    ]),
    `exec "$@"`,
  ].join("\n");
}

/** The variables that point every common client (curl, npm, pip, cargo, go, git, gem, Maven) at the proxy. */
export function proxyEnv(): Record<string, string> {
  const url = `http://127.0.0.1:${PROXY_PORT_INSIDE}`;
  // The sandbox's own loopback stays direct: tests that start a local server reach it.
  const noProxy = "localhost,127.0.0.1,::1";
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
    npm_config_proxy: url,
    npm_config_https_proxy: url,
    JAVA_TOOL_OPTIONS: `-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=${PROXY_PORT_INSIDE} -Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=${PROXY_PORT_INSIDE} -Dhttp.nonProxyHosts=localhost|127.0.0.1`,
  };
}
