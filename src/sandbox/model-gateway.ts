import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmod, rm } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Logger } from "../logger.js";
import { type GatewayUsage, meter } from "./gateway-meter.js";
import { forwardHeaders, refuseBody, responseHeaders } from "./gateway-request-filter.js";

/** Where the gateway listens: a Unix socket (bridged into a jail) or a loopback TCP port (no jail). */
export type GatewayListen = { socketPath: string } | { loopbackPort: 0 };

export interface ModelGatewayOptions {
  listen: GatewayListen;
  /** The real Anthropic API key: it stays in this process and is added to forwarded requests only. */
  apiKey: string;
  /** ANTHROPIC_BASE_URL of the service, or Anthropic's own API. */
  upstream: string;
  logger: Logger;
  /** Every answered request's model and usage, read from the answer as it streams past. */
  onUsage?: (model: string, usage: GatewayUsage) => void;
  /** Asked before each request: a reason to refuse it (the job's budget is spent), or null. */
  admit?: () => string | null;
  /** Largest request body in bytes (default 64 MiB), counted as it arrives, whatever the framing. */
  maxBodyBytes?: number;
  /** Messages requests answered at once (default 2): a command looping on the token cannot outrun the budget check. */
  maxInFlight?: number;
}

export type { GatewayUsage } from "./gateway-meter.js";

/** One request the gateway answered, for logs and tests. */
export interface GatewayRecord {
  method: string;
  path: string;
  status: number;
}

// Claude Code's model traffic: the Messages API (its query string carries `beta=true`) and token
// counting. Anything else (models list, files, batches, admin) is no business of a coding agent.
const ALLOWED = new Set(["/v1/messages", "/v1/messages/count_tokens"]);
// A prompt of a full 1M-token context is a few MB of JSON; far more is not a model request.
const MAX_BODY_BYTES = 64 * 1024 * 1024;
// The newest records kept: enough for logs and tests, bounded for a long job.
const MAX_RECORDS = 200;
const ERROR_TYPES: Record<number, string> = { 400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error" };

/**
 * A per-job door to the model API. The agent runtime gets a random token for it, never the API
 * key: the gateway checks the token, lets only Messages requests through, puts the real key on
 * them and streams the answer back. A token read by the agent's own commands is worth nothing
 * once the job ends (and buys only model calls while it runs).
 */
export class ModelGateway {
  readonly token = `awf-gw-${randomBytes(24).toString("hex")}`;
  readonly records: GatewayRecord[] = [];
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly upstream: URL;
  private inFlight = 0;

  private constructor(private readonly o: ModelGatewayOptions) {
    this.upstream = new URL(o.upstream);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.o.logger.warn({ err }, "model gateway: request failed");
        res.destroy();
      });
    });
    this.server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
    });
  }

  /** Starts listening; a Unix socket is made readable by its owner only. */
  static async start(o: ModelGatewayOptions): Promise<ModelGateway> {
    const gw = new ModelGateway(o);
    if ("socketPath" in o.listen) await rm(o.listen.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      gw.server.once("error", reject);
      if ("socketPath" in o.listen) gw.server.listen(o.listen.socketPath, () => resolve());
      else gw.server.listen(0, "127.0.0.1", () => resolve());
    });
    if ("socketPath" in o.listen) await chmod(o.listen.socketPath, 0o600);
    return gw;
  }

  /** The loopback port when listening on TCP (AGENT_SANDBOX=none). */
  get port(): number | null {
    const a = this.server.address();
    return a && typeof a === "object" ? (a as AddressInfo).port : null;
  }

  /** Stops listening and cuts every open request. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if ("socketPath" in this.o.listen) await rm(this.o.listen.socketPath, { force: true });
  }

  private record(r: GatewayRecord): void {
    if (this.records.length >= MAX_RECORDS) this.records.shift();
    this.records.push(r);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://gateway");
    const deny = (status: number, message: string) => {
      this.record({ method: req.method ?? "", path: url.pathname, status });
      if (status === 400 || status === 413) this.o.logger.warn({ status, path: url.pathname, reason: message }, "model gateway: request refused");
      // x-should-retry: the Anthropic SDK (inside Claude Code too) would otherwise retry a refusal for minutes.
      const headers = { "content-type": "application/json", "x-should-retry": "false", ...(status === 413 ? { connection: "close" } : {}) };
      res.writeHead(status, headers);
      res.end(JSON.stringify({ type: "error", error: { type: ERROR_TYPES[status] ?? "api_error", message: `agent-workforce model gateway: ${message}` } }));
      // A body too large is not read to its end (it may never end): the connection goes.
      if (status === 413) res.once("finish", () => req.destroy());
      else req.resume();
    };
    if (!this.authorised(req)) return deny(401, "missing or wrong token");
    if (req.method !== "POST" || !ALLOWED.has(url.pathname)) {
      return deny(404, `only POST /v1/messages and /v1/messages/count_tokens pass, not ${req.method} ${url.pathname}`);
    }
    const cap = this.o.maxBodyBytes ?? MAX_BODY_BYTES;
    if (Number(req.headers["content-length"] ?? 0) > cap) return deny(413, `request body over ${cap} bytes`);
    const raw = await readCapped(req, cap);
    if (raw === "too-large") return deny(413, `request body over ${cap} bytes`);
    if (raw === null) return; // the client hung up
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      return deny(400, "the request body is not JSON");
    }
    const refused = refuseBody(body);
    if (refused) return deny(400, `${refused} (nothing that makes the API fetch or run things for the agent passes)`);
    if (url.pathname !== "/v1/messages") return this.forward(req, res, url, raw);
    const refusal = this.o.admit?.();
    if (refusal) return deny(429, refusal);
    if (this.inFlight >= (this.o.maxInFlight ?? 2)) return deny(429, `at most ${this.o.maxInFlight ?? 2} model requests at a time`);
    this.inFlight += 1;
    res.once("close", () => (this.inFlight -= 1));
    this.forward(req, res, url, raw);
  }

  private authorised(req: http.IncomingMessage): boolean {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const given = String(req.headers["x-api-key"] ?? bearer ?? "");
    const a = Buffer.from(given);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: Buffer): void {
    const headers = forwardHeaders(req.headers);
    headers["x-api-key"] = this.o.apiKey;
    headers["content-length"] = body.length;
    const base = this.upstream.pathname.replace(/\/$/, "");
    const client = this.upstream.protocol === "https:" ? https : http;
    const upstream = client.request(
      {
        protocol: this.upstream.protocol,
        hostname: this.upstream.hostname,
        port: this.upstream.port || undefined,
        method: "POST",
        path: `${base}${url.pathname}${url.search}`,
        headers,
      },
      (up) => {
        this.record({ method: "POST", path: url.pathname, status: up.statusCode ?? 502 });
        res.writeHead(up.statusCode ?? 502, responseHeaders(up.headers));
        // Piped as it arrives (the answer is a server-sent event stream), and metered on the way:
        // whoever holds the token (the runtime, or a command of the agent's) is booked.
        if (url.pathname === "/v1/messages" && up.statusCode === 200 && this.o.onUsage) meter(up, this.o.onUsage);
        // An answer cut upstream: the jail's side is cut too (metering books what was seen).
        up.on("error", () => res.destroy());
        up.pipe(res);
      },
    );
    upstream.on("error", (err) => {
      this.o.logger.warn({ err: err.message, path: url.pathname }, "model gateway: upstream request failed");
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "application/json" });
        res.end(JSON.stringify({ type: "error", error: { type: "api_error", message: `model gateway: ${err.message}` } }));
      } else res.destroy();
    });
    // The runtime hung up (a stop): the model call upstream stops too.
    res.once("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end(body);
  }
}

/** The request body, read to its end unless it passes `cap` bytes ("too-large"); null when the client hung up. */
function readCapped(req: http.IncomingMessage, cap: number): Promise<Buffer | "too-large" | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= cap) return void chunks.push(c);
      req.off("data", onData);
      req.pause();
      resolve("too-large");
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", () => resolve(null));
    req.once("close", () => resolve(req.complete ? Buffer.concat(chunks) : null));
  });
}
