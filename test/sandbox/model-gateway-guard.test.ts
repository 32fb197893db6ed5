// The gateway's guards against a command in the jail holding its token: bodies and betas that
// make the API reach out, the budget and concurrency, cut answers, oversized bodies, headers.
import http from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { GatewaySpend } from "../../src/agent/claude-code/gateway-spend.js";
import { Pricing } from "../../src/agent/pricing.js";
import { type GatewayUsage, ModelGateway, type ModelGatewayOptions } from "../../src/sandbox/model-gateway.js";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic/index.js";

type Reply = { status: number; text: string; headers: http.IncomingHttpHeaders };
const MESSAGE = { model: "claude-sonnet-4-6", max_tokens: 100, stream: true, messages: [{ role: "user", content: "hi" }] };
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});

async function setup(o: Partial<ModelGatewayOptions> = {}, upstream?: string): Promise<{ fake: AnthropicFake; gw: ModelGateway; metered: Array<{ model: string; usage: GatewayUsage }> }> {
  const fake = await startAnthropicFake();
  closers.push(() => fake.close());
  const metered: Array<{ model: string; usage: GatewayUsage }> = [];
  const gw = await ModelGateway.start({ listen: { loopbackPort: 0 }, apiKey: fake.apiKey, upstream: upstream ?? fake.url, logger: pino({ level: "silent" }), onUsage: (model, usage) => void metered.push({ model, usage }), ...o });
  closers.push(() => gw.close());
  return { fake, gw, metered };
}

/** One request to the gateway over loopback TCP; `chunks` sends the body chunked, without a content-length. */
function send(gw: ModelGateway, p: { body?: unknown; headers?: Record<string, string>; chunks?: string[]; path?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers = { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": gw.token, ...p.headers };
    const req = http.request({ host: "127.0.0.1", port: gw.port ?? 0, method: "POST", path: p.path ?? "/v1/messages", headers }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on("error", reject);
    if (p.chunks) {
      for (const c of p.chunks) req.write(c);
      req.end();
    } else req.end(JSON.stringify(p.body ?? MESSAGE));
  });
}

/** A loopback upstream that answers with message_start and then does what `then` says (hang, or cut the connection). */
async function halfUpstream(then: "hang" | "cut"): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/event-stream", "request-id": "req_1", "anthropic-organization-id": "org-secret", "anthropic-ratelimit-requests-limit": "50", "set-cookie": "a=b" });
    const usage = { input_tokens: 1200, output_tokens: 1, cache_creation_input_tokens: 30, cache_read_input_tokens: 40 };
    res.write(`event: message_start\ndata: ${JSON.stringify({ type: "message_start", message: { model: "claude-sonnet-4-6", usage } })}\n\n`);
    if (then === "cut") setTimeout(() => res.socket?.destroy(), 50);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("model gateway guards", () => {
  it("refuses bodies that make the API fetch or run things, without reaching upstream", async () => {
    const { fake, gw } = await setup();
    const image = (source: unknown) => ({ ...MESSAGE, messages: [{ role: "user", content: [{ type: "image", source }] }] });
    const refused = [
      { ...MESSAGE, mcp_servers: [{ type: "url", url: "https://evil.example/mcp", name: "x" }] },
      { ...MESSAGE, container: "container_1" },
      { ...MESSAGE, tools: [{ type: "web_fetch_20250910", name: "web_fetch" }] },
      { ...MESSAGE, tools: [{ type: "code_execution_20250825", name: "code_execution" }] },
      image({ type: "url", url: "https://evil.example/x.png" }),
      { ...MESSAGE, messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: [{ type: "document", source: { type: "file", file_id: "file_1" } }] }] }] },
      { ...MESSAGE, messages: [{ role: "user", content: [{ type: "container_upload", file_id: "file_1" }] }] },
    ];
    for (const body of refused) {
      const res = await send(gw, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.text).toContain("agent-workforce model gateway");
    }
    expect((await send(gw, { chunks: ["{not json"] })).status).toBe(400);
    expect(fake.log).toHaveLength(0);
  });

  it("passes Claude Code's own requests (typeless and custom tools, its deferred-tool placeholder) and drops reaching betas only", async () => {
    const { fake, gw } = await setup();
    const schema = { type: "object", properties: {} };
    const tools = [{ name: "Bash", description: "b", input_schema: schema }, { type: "custom", name: "Read", description: "r", input_schema: schema }, { name: "DeferredToolPlaceholder", description: "never call", input_schema: schema, defer_loading: true }];
    const beta = "claude-code-20250219,mcp-client-2025-11-20, files-api-2025-04-14,interleaved-thinking-2025-05-14,web-fetch-2025-09-10,code-execution-2025-08-25,skills-2025-10-02";
    const res = await send(gw, { body: { ...MESSAGE, tools }, headers: { "anthropic-beta": beta } });
    expect(res.status).toBe(200);
    expect(fake.requests[0]?.headers["anthropic-beta"]).toBe("claude-code-20250219,interleaved-thinking-2025-05-14");
    expect(fake.log[0]?.tools).toEqual(["Bash", "Read", "DeferredToolPlaceholder"]);
  });

  it("refuses Messages requests once the metered answers reach the budget, before any run books them", async () => {
    const pricing = new Pricing();
    const spend = new GatewaySpend(pricing, "claude-sonnet-4-6");
    const { fake, gw } = await setup({ onUsage: (m, u) => spend.add(m, u), admit: () => spend.refusal(0, 0.000001) });
    expect((await send(gw, {})).status).toBe(200);
    expect(spend.spent(0)).toBeGreaterThan(0);
    const res = await send(gw, {});
    expect(res.status).toBe(429);
    expect(res.headers["x-should-retry"]).toBe("false");
    expect(res.text).toContain("budget");
    expect(fake.log).toHaveLength(1);
  });

  it("answers at most two Messages requests at a time", async () => {
    const { fake, gw } = await setup();
    fake.script([{ content: [{ type: "text", text: "a" }], delayMs: 400 }, { content: [{ type: "text", text: "b" }], delayMs: 400 }]);
    const first = [send(gw, {}), send(gw, {})];
    await new Promise((r) => setTimeout(r, 150));
    const third = await send(gw, {});
    expect(third.status).toBe(429);
    expect(third.headers["x-should-retry"]).toBe("false");
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
    expect((await send(gw, {})).status).toBe(200);
  });

  it("books a cut answer with the usage seen, whether the client hangs up or the upstream fails", async () => {
    for (const then of ["hang", "cut"] as const) {
      const { gw, metered } = await setup({}, await halfUpstream(then));
      await new Promise<void>((resolve) => {
        const req = http.request({ host: "127.0.0.1", port: gw.port ?? 0, method: "POST", path: "/v1/messages", headers: { "x-api-key": gw.token } }, (res) => {
          res.once("data", () => (then === "hang" ? req.destroy() : undefined));
          res.on("error", () => resolve()).on("close", () => resolve());
        });
        req.on("error", () => resolve());
        req.end(JSON.stringify(MESSAGE));
      });
      await expect.poll(() => metered.length).toBe(1);
      expect(metered[0]?.usage).toEqual({ input: 1200, output: 1, cacheWrite: 30, cacheRead: 40 });
    }
  });

  it("counts the bytes of a chunked body: past the cap is a 413", async () => {
    const { fake, gw } = await setup({ maxBodyBytes: 1000 });
    const res = await send(gw, { chunks: ['{"model":"x","pad":"', "a".repeat(600), "b".repeat(600), '"}'] });
    expect(res.status).toBe(413);
    expect(fake.log).toHaveLength(0);
  });

  it("keeps only the newest records", async () => {
    const { gw } = await setup();
    for (let i = 0; i < 210; i++) await send(gw, { headers: { "x-api-key": "wrong" } });
    expect(gw.records).toHaveLength(200);
  });

  it("drops headers the Connection header names, and passes back allowlisted answer headers only", async () => {
    const { fake, gw } = await setup();
    await send(gw, { headers: { connection: "x-hop-secret", "x-hop-secret": "1" } });
    expect(fake.requests[0]?.headers["x-hop-secret"]).toBeUndefined();
    const { gw: gw2 } = await setup({}, await halfUpstream("cut"));
    const res = await new Promise<http.IncomingHttpHeaders>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: gw2.port ?? 0, method: "POST", path: "/v1/messages", headers: { "x-api-key": gw2.token } }, (r) => {
        resolve(r.headers);
        r.on("error", () => undefined).resume();
      });
      req.on("error", reject);
      req.end(JSON.stringify(MESSAGE));
    });
    expect(res["request-id"]).toBe("req_1");
    expect(res["anthropic-ratelimit-requests-limit"]).toBe("50");
    expect(res["anthropic-organization-id"]).toBeUndefined();
    expect(res["set-cookie"]).toBeUndefined();
  });
});
