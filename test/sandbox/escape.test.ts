// An agent obeying a hostile issue tries to leave its sandbox while an honest job works on
// another repository beside it. Every attempt runs through the agent's real bash tool in a real
// bubblewrap sandbox, with the worker's real egress proxy; each must be refused.
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBashTool, type BashTool } from "../../src/agent/tools/index.js";
import { runChecks } from "../../src/agent/checks.js";
import type { EgressDecision } from "../../src/sandbox/egress-proxy.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/sandbox.js";
import { Workspace, type Worktree } from "../../src/workspace/index.js";
import { type BareRemote, createBareRemote } from "../helpers/git-remote.js";

const exec = promisify(execFile);
const PATH = "/usr/local/bin:/usr/bin:/bin";
const SECRET = `sk-worker-secret-${Math.random().toString(36).slice(2)}`;

let root: string;
let sandbox: Sandbox;
let remotes: BareRemote[];
let honest: Worktree;
let hostile: Worktree;
let shell: BashTool;
let dashboard: http.Server;
let registry: http.Server;
const egress: EgressDecision[] = [];

async function sh(command: string): Promise<string> {
  const result = await shell.run({ command });
  return result.content;
}

beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), "awf-escape-")));
  const logger = pino({ level: "silent" });
  remotes = [await createBareRemote({ "honest.txt": "honest work\n" }), await createBareRemote({ "README.md": "hostile\n" })];
  const ws = new Workspace({ dataDir: join(root, "data"), baseEnv: { PATH, HOME: root, LANG: "C.UTF-8" }, logger });
  const job = (i: number, key: string) => ({ repo: { owner: "acme", name: `repo${i}` }, cloneUrl: remotes[i]!.url, key, branch: `agent/${key}`, baseBranch: "main" });
  honest = await ws.createWorktree(job(0, "honest-1"));
  hostile = await ws.createWorktree(job(1, "hostile-1"));
  await writeFile(join(honest.path, "honest.txt"), "honest work, in progress\n");

  dashboard = http.createServer((_req, res) => res.end("dashboard"));
  registry = await startRegistry();
  await new Promise<void>((r) => dashboard.listen(0, "127.0.0.1", r));
  sandbox = await startSandbox({
    mode: "bubblewrap",
    allowedDomains: [`127.0.0.2:${(registry.address() as AddressInfo).port}`],
    path: PATH,
    hidden: [join(root, "data"), process.cwd()],
    logger,
    onEgress: (d) => egress.push(d),
  });
  const home = join(root, "data", "homes", "hostile-1");
  await mkdir(join(home, ".tmp"), { recursive: true });
  // The worker's own environment holds secrets; the jail must hand none of them on.
  process.env.AWF_TEST_WORKER_SECRET = SECRET;
  const jail = sandbox.jail({ worktree: hostile.path, home, tmp: join(home, ".tmp"), git: hostile.gitPaths }, { PATH, LANG: "C.UTF-8" });
  shell = createBashTool({ cwd: hostile.path, env: { PATH }, timeoutMs: 60_000, maxOutputChars: 20_000, jail });
}, 60_000);

afterAll(async () => {
  delete process.env.AWF_TEST_WORKER_SECRET;
  await shell?.close();
  await sandbox?.close();
  dashboard?.close();
  registry?.close();
  await Promise.all((remotes ?? []).map((r) => r.cleanup()));
  await rm(root, { recursive: true, force: true });
});

describe("an agent in the bubblewrap sandbox", () => {
  it("works in its own worktree: writes files, runs git status and diff", async () => {
    const out = await sh("echo hi > mine.txt && cat mine.txt && git status --short && git diff --stat HEAD && echo CWD=$PWD");
    expect(out).toContain("hi");
    expect(out).toContain("?? mine.txt");
    expect(out).toContain(`CWD=${hostile.path}`);
  });

  it("cannot reach Redis by redis-cli, /dev/tcp or node's net.connect", async () => {
    const out = await sh(
      [
        "redis-cli -h 127.0.0.1 -p 6379 ping 2>&1; echo redis-cli=$?",
        "(exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\\r\\n' >&3 && head -c 7 <&3) 2>&1; echo devtcp=$?",
        `node -e 'require("net").connect(6379,"127.0.0.1").on("connect",()=>{console.log("CONNECTED");process.exit(0)}).on("error",e=>{console.log(e.code);process.exit(1)})'`,
      ].join("; "),
    );
    expect(out).not.toContain("PONG");
    expect(out).not.toContain("CONNECTED");
    expect(out).toMatch(/redis-cli=1/);
    expect(out).toContain("ECONNREFUSED");
  });

  it("cannot read another repository's mirror or another job's worktree, nor write outside its own", async () => {
    const out = await sh(
      [
        `ls ${honest.gitPaths.mirror} 2>&1; echo mirror=$?`,
        `cat ${honest.path}/honest.txt 2>&1; echo read-other=$?`,
        `echo evil > ${honest.path}/honest.txt 2>&1; echo write-other=$?`,
        `echo "worktrees: $(ls ${join(root, "data", "worktrees")} | tr '\\n' ' ')"`,
        `echo evil > ${join(root, "data", "evil.txt")} 2>&1; echo write-data=$?`,
        `echo evil > /usr/evil.txt 2>&1; echo write-usr=$?`,
        `echo evil > ${hostile.gitPaths.mirror}/config 2>&1; echo write-own-mirror=$?`,
        `echo "admin dirs: $(ls ${hostile.gitPaths.adminDir}/.. | tr '\\n' ' ')"`,
        `cat ${process.cwd()}/package.json 2>&1; echo service=$?`,
      ].join("; "),
    );
    expect(out).toMatch(/mirror=[12]/);
    expect(out).toMatch(/read-other=1/);
    expect(out).toMatch(/write-other=1/);
    expect(out).toMatch(/write-usr=1/);
    expect(out).toMatch(/write-own-mirror=1/);
    expect(out).toMatch(/service=1/);
    expect(out).not.toContain("honest work");
    expect(out).toContain("worktrees: hostile-1 \n");
    expect(out).toContain("admin dirs: hostile-1 \n");
    expect(out).not.toContain("agent-workforce");
    // Paths under the host's /tmp (where tests keep DATA_DIR) resolve into the job's own /tmp
    // inside, so what matters is that nothing reached the real data directory.
    // The honest job's work is intact.
    expect(await readFile(join(honest.path, "honest.txt"), "utf8")).toBe("honest work, in progress\n");
    await expect(readFile(join(root, "data", "evil.txt"), "utf8")).rejects.toThrow(/ENOENT/);
  });

  it("sees no secret of the worker: not in its environment, not through /proc", async () => {
    const out = await sh("env; cat /proc/1/environ 2>/dev/null | tr '\\0' '\\n'; ls /proc | grep -c '^[0-9]'");
    expect(out).toContain("PATH=");
    expect(out).not.toContain(SECRET);
    // Only the sandbox's own few processes exist in its PID namespace.
    const pids = Number(out.trim().split("\n").at(-1));
    expect(pids).toBeGreaterThan(0);
    expect(pids).toBeLessThan(10);
  });

  it("cannot reach the dashboard, a metadata endpoint or a host outside the allowlist", async () => {
    const port = (dashboard.address() as AddressInfo).port;
    const before = egress.length;
    const out = await sh(
      [
        `curl -sS --max-time 5 --noproxy '*' http://127.0.0.1:${port}/ 2>&1; echo direct=$?`,
        `curl -sS --max-time 5 http://127.0.0.1:${port}/ 2>&1; echo localhost-proxied=$?`,
        `curl -sS --max-time 5 --noproxy '*' http://169.254.169.254/latest/meta-data/ 2>&1; echo metadata=$?`,
        `curl -sS --max-time 5 -o /dev/null -w '%{http_code}' http://169.254.169.254/latest/meta-data/ 2>&1; echo`,
        `curl -sS --max-time 5 https://example.com/ 2>&1; echo tls=$?`,
      ].join("; "),
    );
    expect(out).not.toContain("dashboard");
    expect(out).toMatch(/direct=7/);
    expect(out).toMatch(/metadata=7/);
    expect(out).toContain("403");
    expect(out).toMatch(/tls=56/);
    const refused = egress.slice(before).filter((d) => !d.allowed).map((d) => d.host);
    expect(refused).toEqual(expect.arrayContaining(["169.254.169.254", "example.com"]));
    expect(egress.slice(before).some((d) => d.allowed)).toBe(false);
  });

  it("installs a package from an allowlisted registry through the proxy", async () => {
    const port = (registry.address() as AddressInfo).port;
    const before = egress.length;
    const out = await sh(
      `npm install --no-audit --no-fund --registry http://127.0.0.2:${port}/ awf-left-pad 2>&1; echo npm=$?; node -e 'console.log(require("awf-left-pad")("x", 3))'`,
    );
    expect(out).toContain("npm=0");
    expect(out).toContain("  x");
    expect(egress.slice(before).some((d) => d.allowed && d.host === "127.0.0.2")).toBe(true);
    // Not a direct route: the same address is unreachable without the proxy.
    const direct = await sh(`curl -sS --max-time 5 --noproxy '*' http://127.0.0.2:${port}/ 2>&1; echo direct=$?`);
    expect(direct).toMatch(/direct=7/);
  }, 60_000);

  it("runs the repository's checks in the same boundary", async () => {
    const home = join(root, "data", "homes", "hostile-1");
    const jail = sandbox.jail({ worktree: hostile.path, home, tmp: join(home, ".tmp") }, { PATH });
    const result = await runChecks({
      cwd: hostile.path,
      command: `redis-cli -h 127.0.0.1 ping; cat ${honest.path}/honest.txt; echo evil > ${honest.path}/x.txt`,
      env: { PATH },
      timeoutMs: 30_000,
      jail,
    });
    expect(result.passed).toBe(false);
    expect(result.output).not.toContain("PONG");
    expect(result.output).not.toContain("honest work");
    await expect(readFile(join(honest.path, "x.txt"), "utf8")).rejects.toThrow(/ENOENT/);
  });
});

/** A stand-in npm registry on 127.0.0.2 serving one package, as the allowlist names it. */
async function startRegistry(): Promise<http.Server> {
  const dir = await mkdtemp(join(tmpdir(), "awf-registry-"));
  await mkdir(join(dir, "package"));
  await writeFile(join(dir, "package", "package.json"), JSON.stringify({ name: "awf-left-pad", version: "1.0.0", main: "index.js" }));
  await writeFile(join(dir, "package", "index.js"), "module.exports = (s, n) => s.padStart(n);\n");
  await exec("tar", ["-czf", join(dir, "pkg.tgz"), "-C", dir, "package"]);
  const tarball = await readFile(join(dir, "pkg.tgz"));
  await rm(dir, { recursive: true, force: true });
  const integrity = `sha512-${createHash("sha512").update(tarball).digest("base64")}`;
  const shasum = createHash("sha1").update(tarball).digest("hex");
  const server = http.createServer((req, res) => {
    const base = `http://${req.headers.host}`;
    if (req.url?.startsWith("/awf-left-pad/-/")) return res.end(tarball);
    if (req.url === "/awf-left-pad") {
      const version = { name: "awf-left-pad", version: "1.0.0", main: "index.js", dist: { tarball: `${base}/awf-left-pad/-/awf-left-pad-1.0.0.tgz`, integrity, shasum } };
      res.setHeader("content-type", "application/json");
      return res.end(JSON.stringify({ name: "awf-left-pad", "dist-tags": { latest: "1.0.0" }, versions: { "1.0.0": version } }));
    }
    res.statusCode = 404;
    res.end("{}");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.2", r));
  return server;
}
