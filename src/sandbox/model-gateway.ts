import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmod, rm } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Logger } from "../logger.js";

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
}

/** Token counts of one answer, as the API reports them. */
export interface GatewayUsage {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

/** One request the gateway answered, for logs and tests. */
export interface GatewayRecord {
  method: string;
  path: string;
  status: number;
}

// Claude Code's model traffic: the Messages API (its query string carries `beta=true`) and token
// counting. Anything else (models list, files, batches, admin) is no business of a coding agent.
const ALLOWED = new Set(["/v1/messages", "/v1/messages/count_tokens"]);
// Headers that describe one hop (RFC 9110 §7.6.1) or carry credentials, never forwarded; and
// accept-encoding, so answers come back uncompressed and their usage can be metered.
const DROPPED = ["connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host", "x-api-key", "authorization", "accept-encoding"];
// A prompt of a full 1M-token context is a few MB of JSON; far more is not a model request.
const MAX_BODY_BYTES = 64 * 1024 * 1024;

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

  private constructor(private readonly o: ModelGatewayOptions) {
    this.upstream = new URL(o.upstream);
    this.server = http.createServer((req, res) => this.handle(req, res));
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

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://gateway");
    const deny = (status: number, message: string) => {
      this.records.push({ method: req.method ?? "", path: url.pathname, status });
      // x-should-retry: the Anthropic SDK (inside Claude Code too) would otherwise retry a refusal for minutes.
      res.writeHead(status, { "content-type": "application/json", "x-should-retry": "false" });
      const type = status === 401 ? "authentication_error" : status === 429 ? "rate_limit_error" : "not_found_error";
      res.end(JSON.stringify({ type: "error", error: { type, message } }));
      req.resume();
    };
    if (!this.authorised(req)) return deny(401, "agent-workforce model gateway: missing or wrong token");
    if (req.method !== "POST" || !ALLOWED.has(url.pathname)) {
      return deny(404, `agent-workforce model gateway: only POST /v1/messages and /v1/messages/count_tokens pass, not ${req.method} ${url.pathname}`);
    }
    if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) return deny(413, "request too large");
    const refusal = url.pathname === "/v1/messages" ? this.o.admit?.() : null;
    if (refusal) return deny(429, `agent-workforce model gateway: ${refusal}`);
    this.forward(req, res, url);
  }

  private authorised(req: http.IncomingMessage): boolean {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const given = String(req.headers["x-api-key"] ?? bearer ?? "");
    const a = Buffer.from(given);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    const headers: http.OutgoingHttpHeaders = { ...req.headers };
    for (const name of DROPPED) delete headers[name];
    headers["x-api-key"] = this.o.apiKey;
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
        this.records.push({ method: "POST", path: url.pathname, status: up.statusCode ?? 502 });
        const out = { ...up.headers };
        delete out.connection;
        delete out["transfer-encoding"];
        res.writeHead(up.statusCode ?? 502, out);
        // Piped as it arrives (the answer is a server-sent event stream), and metered on the way:
        // whoever holds the token (the runtime, or a command of the agent's) is booked.
        if (url.pathname === "/v1/messages" && up.statusCode === 200 && this.o.onUsage) meter(up, this.o.onUsage);
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
    req.pipe(upstream);
  }
}

type RawUsage = { input_tokens?: number | null; output_tokens?: number | null; cache_creation_input_tokens?: number | null; cache_read_input_tokens?: number | null };

/** Reads the usage of a Messages answer (SSE: message_start, then message_delta; JSON: its usage) as it passes. */
function meter(up: http.IncomingMessage, onUsage: (model: string, usage: GatewayUsage) => void): void {
  const sse = String(up.headers["content-type"] ?? "").includes("text/event-stream");
  let buffer = "";
  let model = "";
  let usage: GatewayUsage = { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };
  const take = (u: RawUsage | undefined) => {
    if (!u) return;
    usage = {
      input: u.input_tokens ?? usage.input,
      output: u.output_tokens ?? usage.output,
      cacheWrite: u.cache_creation_input_tokens ?? usage.cacheWrite,
      cacheRead: u.cache_read_input_tokens ?? usage.cacheRead,
    };
  };
  const line = (text: string) => {
    if (sse && !text.startsWith("data:")) return;
    try {
      const e = JSON.parse(sse ? text.slice(5) : text) as { type?: string; model?: string; message?: { model?: string; usage?: RawUsage }; usage?: RawUsage };
      if (e.type === "message_start") {
        model = e.message?.model ?? model;
        take(e.message?.usage);
      } else if (e.type === "message_delta" || e.type === "message") {
        model = e.model ?? model;
        take(e.usage);
      }
    } catch {
      // not JSON: nothing to meter in this line
    }
  };
  up.setEncoding("utf8");
  up.on("data", (chunk: string) => {
    buffer += chunk;
    if (!sse) return;
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    lines.forEach(line);
  });
  up.once("end", () => {
    if (buffer) line(buffer);
    if (model) onUsage(model, usage);
  });
}
