import { mkdtemp, rm, stat } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GatewayUsage, ModelGateway } from "../../src/sandbox/model-gateway.js";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic/index.js";

let fake: AnthropicFake;
let gw: ModelGateway;
let dir: string;

beforeEach(async () => {
  fake = await startAnthropicFake();
  dir = await mkdtemp(path.join(os.tmpdir(), "awf-gw-test-"));
});
afterEach(async () => {
  await gw?.close();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

/** One request to the gateway over its Unix socket. */
function request(p: { method?: string; path: string; headers?: Record<string, string>; body?: unknown }): Promise<{ status: number; text: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: path.join(dir, "gw.sock"), method: p.method ?? "POST", path: p.path, headers: { "content-type": "application/json", ...p.headers } },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text, type: String(res.headers["content-type"]) }));
      },
    );
    req.on("error", reject);
    req.end(p.body === undefined ? undefined : JSON.stringify(p.body));
  });
}

const MESSAGE = { model: "claude-sonnet-4-6", max_tokens: 100, stream: true, messages: [{ role: "user", content: "hi" }] };

const metered: Array<{ model: string; usage: GatewayUsage }> = [];
let refusal: string | null = null;

describe("model gateway", () => {
  beforeEach(async () => {
    metered.length = 0;
    refusal = null;
    gw = await ModelGateway.start({
      listen: { socketPath: path.join(dir, "gw.sock") },
      apiKey: fake.apiKey,
      upstream: fake.url,
      logger: pino({ level: "silent" }),
      onUsage: (model, usage) => void metered.push({ model, usage }),
      admit: () => refusal,
    });
  });

  it("meters every answer, streamed or not, as the API reports it", async () => {
    fake.script([{ content: [{ type: "text", text: "one" }], output_tokens: 7 }, { content: [{ type: "text", text: "two" }], output_tokens: 9 }]);
    const headers = { "x-api-key": gw.token, "anthropic-version": "2023-06-01" };
    await request({ path: "/v1/messages", headers, body: MESSAGE });
    await request({ path: "/v1/messages", headers, body: { ...MESSAGE, stream: false } });
    expect(metered.map((m) => [m.model, m.usage.output, m.usage.input])).toEqual([
      ["claude-sonnet-4-6", 7, fake.usages[0]?.input_tokens],
      ["claude-sonnet-4-6", 9, fake.usages[1]?.input_tokens],
    ]);
  });

  it("refuses Messages requests once told to (the job's budget is spent), without a retry", async () => {
    refusal = "the job's budget is spent";
    const res = await request({ path: "/v1/messages", headers: { "x-api-key": gw.token, "anthropic-version": "2023-06-01" }, body: MESSAGE });
    expect(res.status).toBe(429);
    expect(res.text).toContain("the job's budget is spent");
    expect(fake.log).toHaveLength(0);
  });

  it("forwards a token-bearing Messages request with the real key, streaming the answer back", async () => {
    const res = await request({ path: "/v1/messages?beta=true", headers: { "x-api-key": gw.token, "anthropic-version": "2023-06-01" }, body: MESSAGE });
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/text\/event-stream/);
    expect(res.text).toContain("event: message_stop");
    // The fake saw the real key (it answers 401 otherwise), never the token.
    expect(fake.requests[0]?.headers["x-api-key"]).toBe(fake.apiKey);
    expect(JSON.stringify(fake.requests[0]?.headers)).not.toContain(gw.token);
    expect(fake.log[0]?.url).toBe("/v1/messages?beta=true");
  });

  it("refuses a missing or wrong token, and every other route, without reaching upstream", async () => {
    expect((await request({ path: "/v1/messages", headers: { "anthropic-version": "2023-06-01" }, body: MESSAGE })).status).toBe(401);
    expect((await request({ path: "/v1/messages", headers: { "x-api-key": fake.apiKey }, body: MESSAGE })).status).toBe(401);
    expect((await request({ path: "/v1/messages", headers: { authorization: `Bearer ${gw.token}x` }, body: MESSAGE })).status).toBe(401);
    expect((await request({ method: "GET", path: "/v1/models", headers: { "x-api-key": gw.token } })).status).toBe(404);
    expect((await request({ path: "/v1/files", headers: { "x-api-key": gw.token }, body: {} })).status).toBe(404);
    expect(fake.log).toHaveLength(0);
    // A Bearer token passes too (ANTHROPIC_AUTH_TOKEN style), and count_tokens is allowed.
    const count = await request({ path: "/v1/messages/count_tokens", headers: { authorization: `Bearer ${gw.token}`, "anthropic-version": "2023-06-01" }, body: { model: MESSAGE.model, messages: MESSAGE.messages } });
    expect(count.status).toBe(200);
    expect(JSON.parse(count.text)).toHaveProperty("input_tokens");
  });

  it("its socket is its owner's only, and each gateway has its own token", async () => {
    expect((await stat(path.join(dir, "gw.sock"))).mode & 0o777).toBe(0o600);
    const other = await ModelGateway.start({ listen: { loopbackPort: 0 }, apiKey: "k", upstream: fake.url, logger: pino({ level: "silent" }) });
    expect(other.token).not.toBe(gw.token);
    expect(other.port).toBeGreaterThan(0);
    await other.close();
  });
});
