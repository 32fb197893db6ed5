/**
 * Loopback fake of the Anthropic Messages API for the real `@anthropic-ai/sdk` client:
 * `new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries })`.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { countMarkers, PromptCache, segmentsOf, totalTokens } from "./cache.js";
import { answerProbe, type FakeRequestRecord, recordOf, sideRequestTurn } from "./claude-code.js";
import { buildMessage, errorBody, randomId, type ScriptedTurn, writeSse } from "./respond.js";
import { validateRequest } from "./validate.js";

export type { ScriptedBlock, ScriptedTurn } from "./respond.js";
export type { FakeRequestRecord } from "./claude-code.js";

export interface RecordedUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** Request bodies are arbitrary JSON that tests inspect freely. */
type AnyBody = any;

export interface AnthropicFake {
  url: string;
  apiKey: string;
  /** Every /v1/messages request as received (including rejected and failed ones); header names lower-cased. */
  requests: Array<{ headers: Record<string, string>; body: AnyBody }>;
  /** Every request of any route, with its peer address and the tools offered (see claude-code.ts). */
  log: FakeRequestRecord[];
  /** Usage of every successful /v1/messages response, in order. */
  usages: RecordedUsage[];
  /** Queues turns; each accepted request consumes one. With an empty queue the reply is a final "Done." end_turn. */
  script(turns: Array<ScriptedTurn | ((req: AnyBody) => ScriptedTurn)>): void;
  /** Number of scripted turns not yet consumed. */
  pendingTurns(): number;
  close(): Promise<void>;
}

export interface AnthropicFakeOptions {
  apiKey?: string;
  /** Minimum prefix size (estimated tokens) for a breakpoint to be cached; default 1024. */
  minCacheableTokens?: number;
  /** Reject consecutive same-role turns with 400 (default true; the real API documents merging them). */
  strictAlternation?: boolean;
  /** Prompts (estimated tokens) over this are refused with 400 "prompt is too long", as the API does. */
  contextWindow?: number;
  /** Lifetime of a 5-minute cache entry in ms (default 300000); shortened so tests need not wait minutes. */
  cacheTtlMs?: number;
  /**
   * Answers a request before the script does, without consuming a scripted turn (e.g. a runner's
   * compaction or cache-refresh calls, which come at moments a fixed script cannot know).
   */
  intercept?: (req: AnyBody) => ScriptedTurn | undefined;
}

const MAX_CACHE_CONTROL = 4;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}

export async function startAnthropicFake(opts: AnthropicFakeOptions = {}): Promise<AnthropicFake> {
  const apiKey = opts.apiKey ?? `sk-ant-fake-${randomBytes(12).toString("hex")}`;
  const strictAlternation = opts.strictAlternation ?? true;
  const cache = new PromptCache(opts.minCacheableTokens ?? 1024, opts.cacheTtlMs);
  const queue: Array<ScriptedTurn | ((req: AnyBody) => ScriptedTurn)> = [];
  const requests: AnthropicFake["requests"] = [];
  const usages: RecordedUsage[] = [];
  const log: FakeRequestRecord[] = [];

  function sendJson(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string>,
  ): void {
    res.writeHead(status, { ...headers, "content-type": "application/json" }).end(JSON.stringify(body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomId("req_011", 24);
    const headers = { "request-id": requestId };
    const fail = (status: number, type: string, message: string, extra: Record<string, string> = {}) =>
      sendJson(res, status, errorBody(type, message, requestId), { ...headers, ...extra });
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    if (answerProbe(req, res)) return void log.push(recordOf(req, undefined));
    const raw = await readBody(req);
    let body: AnyBody;
    let parseError = false;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
      parseError = true;
    }
    const isMessages = req.method === "POST" && path === "/v1/messages";
    const isCount = req.method === "POST" && path === "/v1/messages/count_tokens";
    if (isMessages) requests.push({ headers: flatHeaders(req), body });
    log.push(recordOf(req, body));

    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    if (req.headers["x-api-key"] !== apiKey && bearer !== apiKey) {
      return fail(401, "authentication_error", "invalid x-api-key");
    }
    if (req.method === "GET" && path === "/v1/models") {
      // The models list, as `client.models.list()` pages it; enough for credential checks.
      const data = ["claude-sonnet-4-6", "claude-opus-4-7", "claude-haiku-4-5"].map((id) => ({
        type: "model",
        id,
        display_name: id,
        created_at: "2026-01-01T00:00:00Z",
      }));
      return sendJson(res, 200, { data, has_more: false, first_id: data[0]?.id, last_id: data.at(-1)?.id }, headers);
    }
    if (!isMessages && !isCount) return fail(404, "not_found_error", "Not found");
    if (!req.headers["anthropic-version"]) {
      return fail(400, "invalid_request_error", "anthropic-version: header is required");
    }
    if (parseError)
      return fail(400, "invalid_request_error", "There was an issue with your request body: invalid JSON");
    const invalid = validateRequest(body, { requireMaxTokens: isMessages, strictAlternation });
    if (invalid) return fail(400, "invalid_request_error", invalid);
    const segments = segmentsOf(body);
    const markers = countMarkers(segments);
    if (markers > MAX_CACHE_CONTROL) {
      return fail(
        400,
        "invalid_request_error",
        `A maximum of ${MAX_CACHE_CONTROL} blocks with cache_control may be provided. Found ${markers}.`,
      );
    }
    if (isCount) return sendJson(res, 200, { input_tokens: totalTokens(body) }, headers);
    const promptTokens = totalTokens(body);
    if (opts.contextWindow !== undefined && promptTokens > opts.contextWindow) {
      return fail(400, "invalid_request_error", `prompt is too long: ${promptTokens} tokens > ${opts.contextWindow} maximum`);
    }

    let turn: ScriptedTurn = { content: [{ type: "text", text: "Done." }], stop_reason: "end_turn" };
    const intercepted = opts.intercept?.(body) ?? sideRequestTurn(req, body);
    if (intercepted) turn = intercepted;
    else {
      const next = queue.shift();
      if (typeof next === "function") turn = next(body);
      else if (next) turn = next;
    }
    if ("error" in turn) {
      const { status, type, message, retryAfterSeconds } = turn.error;
      return fail(
        status,
        type,
        message,
        retryAfterSeconds !== undefined ? { "retry-after": String(retryAfterSeconds) } : {},
      );
    }
    if (turn.delayMs) {
      // A client that gives up (an aborted stream) ends the wait: nothing is answered or recorded.
      const gone = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), turn.delayMs);
        res.once("close", () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (gone) return;
    }
    const usage = cache.apply(body.model, segments);
    const built = buildMessage(turn, body.model, usage);
    usages.push({
      input_tokens: usage.input_tokens,
      output_tokens: built.outputTokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
    });
    if (body.stream === true) writeSse(res, built, headers);
    else sendJson(res, 200, built.message, headers);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify(errorBody("api_error", `Anthropic fake error: ${err.message}`, "req_fake")));
      } else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    apiKey,
    requests,
    log,
    usages,
    script(turns) {
      queue.push(...turns);
    },
    pendingTurns: () => queue.length,
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
