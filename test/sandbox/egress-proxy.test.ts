import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAllowlist, isInternalAddress } from "../../src/sandbox/allowlist.js";
import { EgressProxy } from "../../src/sandbox/egress-proxy.js";

let dir: string;
let upstream: http.Server;
let port: number;
const seenHosts: string[] = [];

/** Sends raw bytes to a proxy's socket and returns all it answers before closing. */
function raw(socketPath: string, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    let data = "";
    s.on("data", (c) => (data += c.toString()));
    s.on("close", () => resolve(data));
    s.on("error", reject);
    s.write(request);
  });
}

async function withProxy<T>(entries: string[], fn: (socket: string) => Promise<T>): Promise<T> {
  const socketPath = join(dir, `p-${Math.random().toString(36).slice(2)}.sock`);
  const proxy = await EgressProxy.start({ socketPath, allowlist: createAllowlist(entries), logger: pino({ level: "silent" }) });
  try {
    return await fn(socketPath);
  } finally {
    await proxy.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "awf-proxy-"));
  upstream = http.createServer((req, res) => {
    seenHosts.push(String(req.headers.host));
    res.end(`upstream saw ${req.headers.host}`);
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.2", r));
  port = (upstream.address() as AddressInfo).port;
});
afterAll(async () => {
  upstream.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the sandbox's egress proxy", () => {
  it("admits a bare entry on the web ports only; another port must be named", async () => {
    await withProxy(["localhost"], async (socket) => {
      const answer = await raw(socket, "CONNECT localhost:6379 HTTP/1.1\r\nhost: localhost:6379\r\n\r\n");
      expect(answer).toMatch(/^HTTP\/1\.1 403/);
      expect(answer).toContain("localhost:6379 is not in AGENT_ALLOWED_DOMAINS");
    });
  });

  it("refuses a name that resolves to an internal address, even when the allowlist names it", async () => {
    await withProxy(["localhost:6379", "localhost"], async (socket) => {
      const answer = await raw(socket, "CONNECT localhost:6379 HTTP/1.1\r\nhost: localhost:6379\r\n\r\n");
      expect(answer).toMatch(/^HTTP\/1\.1 403/);
      expect(answer).toMatch(/localhost resolves to the internal address (127\.0\.0\.1|::1)/);
    });
  });

  it("forwards plain HTTP with the checked host in the Host header, never the client's", async () => {
    await withProxy([`127.0.0.2:${port}`], async (socket) => {
      const body = await new Promise<string>((resolve, reject) => {
        const req = http.request(
          { socketPath: socket, method: "GET", path: `http://127.0.0.2:${port}/x`, headers: { host: "attacker.example", connection: "x-secret", "x-secret": "1" } },
          (res) => {
            let text = "";
            res.on("data", (c) => (text += c));
            res.on("end", () => resolve(text));
          },
        );
        req.on("error", reject);
        req.end();
      });
      expect(body).toBe(`upstream saw 127.0.0.2:${port}`);
      expect(seenHosts).not.toContain("attacker.example");
    });
  });

  it("treats loopback, private, link-local, CGNAT and mapped addresses as internal", () => {
    for (const a of ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1"]) {
      expect(isInternalAddress(a), a).toBe(true);
    }
    for (const a of ["104.16.0.35", "151.101.0.223", "2606:4700::6810:1"]) expect(isInternalAddress(a), a).toBe(false);
  });
});
