import { lookup } from "node:dns/promises";
import { chmod, rm } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "../logger.js";
import { type Allowlist, isInternalAddress, normalizeHost, splitAuthority } from "./allowlist.js";

/** One decision of the proxy, for logs and tests. */
export interface EgressDecision {
  host: string;
  port: number;
  allowed: boolean;
  method: string;
}

export interface EgressProxyOptions {
  /** Unix socket the proxy listens on; the sandbox sees only this socket of the host. */
  socketPath: string;
  allowlist: Allowlist;
  logger: Logger;
  onDecision?: (d: EgressDecision) => void;
}

// One agent must not exhaust the worker's descriptors (Redis and git share them) or hold
// connections forever.
const MAX_CONNECTIONS = 256;
const IDLE_MS = 5 * 60_000;
// Headers that describe one hop, never forwarded (RFC 9110 §7.6.1), plus the proxy's own.
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade"];

/**
 * The only way out of a sandbox's network namespace: an HTTP proxy (CONNECT for TLS, absolute
 * URIs for plain HTTP) that connects only to allowlisted hosts. It listens on a Unix socket that
 * is bind-mounted into each sandbox, where socat offers it on the sandbox's own loopback, so no
 * route to the host's network ever exists inside.
 */
export class EgressProxy {
  private readonly server: http.Server;
  private readonly sockets = new Set<Duplex>();

  private constructor(private readonly o: EgressProxyOptions) {
    this.server = http.createServer((req, res) => this.forward(req, res));
    this.server.on("connect", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.tunnel(req, socket, head));
    this.server.on("connection", (socket: net.Socket) => this.track(socket));
    this.server.maxConnections = MAX_CONNECTIONS;
  }

  /** Listens on `socketPath` (replacing a stale socket file a crashed worker left). */
  static async start(o: EgressProxyOptions): Promise<EgressProxy> {
    const proxy = new EgressProxy(o);
    await rm(o.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      proxy.server.once("error", reject);
      proxy.server.listen(o.socketPath, () => resolve());
    });
    await chmod(o.socketPath, 0o600);
    return proxy;
  }

  /** Stops listening and cuts every open tunnel. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.o.socketPath, { force: true });
  }

  private track(socket: Duplex): void {
    this.sockets.add(socket);
    if (socket instanceof net.Socket) socket.setTimeout(IDLE_MS, () => socket.destroy());
    socket.once("close", () => this.sockets.delete(socket));
  }

  /**
   * The address to connect to for an allowed host:port, or a refusal. A name is resolved here and
   * the connection made to the address checked, so a DNS answer pointing inside (loopback, a
   * private range, a metadata address) or a rebinding between check and connect cannot open the
   * worker's network; only an IP literal the operator listed may be internal.
   */
  private async decide(host: string, port: number, method: string): Promise<{ address: string } | { refused: string }> {
    const entry = this.o.allowlist.match(host, port);
    let verdict: { address: string } | { refused: string };
    if (!entry) verdict = { refused: blockedText(host, port) };
    else if (entry.literal) verdict = { address: normalizeHost(host) };
    else {
      const answers = await lookup(normalizeHost(host), { all: true }).catch(() => []);
      const internal = answers.find((a) => isInternalAddress(a.address));
      if (answers.length === 0) verdict = { refused: `agent-workforce sandbox: ${host} does not resolve` };
      else if (internal) verdict = { refused: `agent-workforce sandbox: ${host} resolves to the internal address ${internal.address}, which agent commands may not reach` };
      else verdict = { address: (answers[0] as { address: string }).address };
    }
    this.o.onDecision?.({ host, port, allowed: "address" in verdict, method });
    if ("refused" in verdict) this.o.logger.warn({ host, port, method, why: verdict.refused }, "sandbox egress refused");
    return verdict;
  }

  private tunnel(req: http.IncomingMessage, client: Duplex, head: Buffer): void {
    client.on("error", () => undefined);
    const target = splitAuthority(req.url ?? "");
    if (!target) return refuse(client, 400, "Bad Request", `malformed CONNECT target ${JSON.stringify(req.url)}`);
    client.pause();
    void this.decide(target.host, target.port, "CONNECT").then((verdict) => {
      if ("refused" in verdict) return refuse(client, 403, "Forbidden", verdict.refused);
      this.open(client, head, verdict.address, target.port, target.host);
    });
  }

  private open(client: Duplex, head: Buffer, address: string, port: number, host: string): void {
    const target = { host, port };
    const upstream = net.connect({ host: address, port });
    this.track(upstream);
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
      client.resume();
    });
    upstream.on("error", (err) => {
      if (!connected) refuse(client, 502, "Bad Gateway", `could not reach ${target.host}:${target.port}: ${err.message}`);
      else client.destroy();
    });
    client.once("close", () => upstream.destroy());
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = URL.canParse(req.url ?? "") ? new URL(req.url as string) : null;
    if (!url || url.protocol !== "http:") {
      res.writeHead(400, { "content-type": "text/plain" }).end("this proxy takes absolute http:// URLs and CONNECT\n");
      return;
    }
    const port = Number(url.port || 80);
    req.pause();
    void this.decide(url.hostname, port, req.method ?? "GET").then((verdict) => {
      if ("refused" in verdict) {
        res.writeHead(403, { "content-type": "text/plain" }).end(`${verdict.refused}\n`);
        return;
      }
      this.relay(req, res, url, verdict.address, port);
    });
  }

  private relay(req: http.IncomingMessage, res: http.ServerResponse, url: URL, address: string, port: number): void {
    const headers = { ...req.headers };
    const listed = String(headers.connection ?? "").split(",").map((h) => h.trim().toLowerCase());
    for (const name of [...HOP_BY_HOP, ...listed]) delete headers[name];
    // The Host header says which site a shared front end (a CDN) serves: it must be the checked host.
    headers.host = url.host;
    const upstream = http.request(
      { host: address, port, method: req.method, path: `${url.pathname}${url.search}`, headers, agent: false },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" }).end(`could not reach ${url.host}: ${err.message}\n`);
      else res.destroy();
    });
    req.pipe(upstream);
    req.resume();
  }
}

function blockedText(host: string, port: number): string {
  return `agent-workforce sandbox: ${host}:${port} is not in AGENT_ALLOWED_DOMAINS (a bare entry allows ports 80 and 443; name another as host:port), so agent commands may not reach it`;
}

function refuse(client: Duplex, status: number, reason: string, body: string): void {
  client.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body) + 1}\r\nconnection: close\r\n\r\n${body}\n`);
}
