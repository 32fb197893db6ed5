import { chmod, rm } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "../logger.js";
import { type Allowlist, splitAuthority } from "./allowlist.js";

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
    socket.once("close", () => this.sockets.delete(socket));
  }

  private decide(host: string, port: number, method: string): boolean {
    const allowed = this.o.allowlist.allows(host);
    this.o.onDecision?.({ host, port, allowed, method });
    if (!allowed) this.o.logger.warn({ host, port, method }, "sandbox egress refused: host is not in AGENT_ALLOWED_DOMAINS");
    return allowed;
  }

  private tunnel(req: http.IncomingMessage, client: Duplex, head: Buffer): void {
    client.on("error", () => undefined);
    const target = splitAuthority(req.url ?? "");
    if (!target) return refuse(client, 400, "Bad Request", `malformed CONNECT target ${JSON.stringify(req.url)}`);
    if (!this.decide(target.host, target.port, "CONNECT")) return refuse(client, 403, "Forbidden", blockedText(target.host));
    const upstream = net.connect({ host: target.host, port: target.port });
    this.track(upstream);
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
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
    if (!this.decide(url.hostname, port, req.method ?? "GET")) {
      res.writeHead(403, { "content-type": "text/plain" }).end(`${blockedText(url.hostname)}\n`);
      return;
    }
    const headers = { ...req.headers };
    delete headers["proxy-connection"];
    delete headers["proxy-authorization"];
    const upstream = http.request(
      { host: url.hostname.replace(/^\[|\]$/g, ""), port, method: req.method, path: `${url.pathname}${url.search}`, headers, agent: false },
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
  }
}

function blockedText(host: string): string {
  return `agent-workforce sandbox: ${host} is not in AGENT_ALLOWED_DOMAINS, so agent commands may not reach it`;
}

function refuse(client: Duplex, status: number, reason: string, body: string): void {
  client.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body) + 1}\r\nconnection: close\r\n\r\n${body}\n`);
}
