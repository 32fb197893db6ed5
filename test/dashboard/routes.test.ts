import type { AddressInfo } from "node:net";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../../src/dashboard/auth.js";
import { dashboardRoutes } from "../../src/dashboard/routes.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { uniquePrefix } from "../helpers/redis.js";
import { seedTask, seedWorkforce } from "./seed.js";
import { openSse, type SseStream } from "./sse-reader.js";

let t: TestApp | undefined;
const streams: SseStream[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await t?.close();
  t = undefined;
});

const HTML = { accept: "text/html" };
const rowsOf = (html: string) => [...html.matchAll(/<tr data-issue="([^"]+)"/g)].map((m) => m[1]);

async function listen(app: TestApp["app"]): Promise<string> {
  await app.listen({ port: 0, host: "127.0.0.1" });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

describe("dashboard page and JSON", () => {
  it("renders every task with its state, needs-you first, and escapes task text", async () => {
    t = await startTestApp();
    await seedWorkforce(t.deps.tasks);
    const res = await t.app.inject({ url: "/", headers: HTML });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.headers["content-security-policy"]).toMatch(/script-src 'nonce-[^']+'/);
    const html = res.body;
    expect(rowsOf(html).sort()).toEqual(["eng-1", "eng-2", "eng-3", "eng-4", "eng-5"]);
    expect(html).toContain("Add pagination to the orders endpoint");
    expect(html).toContain('href="https://linear.app/acme/issue/ENG-2"');
    expect(html).toContain("Queued · #2");
    expect(html).toContain("acme/widgets already has 2 agents at work");
    expect(html).toContain("turn 7: bash, str_replace_based_edit_tool");
    // The model call in flight, with how long it has run, and the context trimming next to the turns.
    const eng2 = html.slice(html.indexOf('<tr data-issue="eng-2"'), html.indexOf("</tr>", html.indexOf('<tr data-issue="eng-2"')));
    expect(eng2).toMatch(/<div class="turn-live" data-turn-elapsed="9\d{4}"[^>]*>model turn in progress · <span class="ticker">1m 3\ds<\/span><\/div>/);
    expect(eng2).toContain('<div class="ctx" data-context>1 compaction · 2 clearings</div>');
    expect(eng2).toContain("48.0k tokens of old tool results cleared");
    expect(eng2).toContain("3400 out (1200 thinking)");
    // Tasks whose context was never trimmed and that have no call in flight show neither.
    const eng3 = html.slice(html.indexOf('<tr data-issue="eng-3"'));
    expect(eng3.slice(0, eng3.indexOf("</tr>"))).not.toMatch(/turn-live|data-context/);
    expect(html).toContain('href="https://github.com/acme/web/pull/41"');

    // User and agent text is escaped everywhere it appears.
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; in the title");
    expect(html).not.toContain("<b>401</b>");
    expect(html).toContain("refused &lt;b&gt;401&lt;/b&gt;");

    // "Needs you" comes before the table: the failure first, then the PR waiting for review.
    const needs = html.indexOf('id="needs-you"');
    expect(needs).toBeGreaterThan(-1);
    expect(needs).toBeLessThan(html.indexOf('id="tasks"'));
    const section = html.slice(needs, html.indexOf('id="tasks"'));
    expect([...section.matchAll(/<li class="k-(\w+)" data-issue="([^"]+)"/g)].map((m) => `${m[1]}:${m[2]}`)).toEqual([
      "failed:eng-4",
      "review:eng-3",
    ]);
    expect(html).toMatch(/data-figure="merge-rate"[^>]*>.*?<div class="v">100%</);
  });

  it("warns on every page while agents run unsandboxed, and only then", async () => {
    t = await startTestApp({ AGENT_SANDBOX: "none" });
    const page = await t.app.inject({ method: "GET", url: "/", headers: HTML });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('role="alert">AGENT_SANDBOX=none: agents run without isolation');
    await t.close();
    t = await startTestApp();
    const safe = await t.app.inject({ method: "GET", url: "/", headers: HTML });
    expect(safe.statusCode).toBe(200);
    expect(safe.body).toContain("<h1>agent-workforce</h1>");
    expect(safe.body).not.toContain("AGENT_SANDBOX=none");
  });

  it("filters the table and the JSON by state and repository", async () => {
    t = await startTestApp();
    await seedWorkforce(t.deps.tasks);
    const failed = await t.app.inject({ url: "/?state=failed", headers: HTML });
    expect(rowsOf(failed.body)).toEqual(["eng-4"]);
    expect(failed.body).toContain('<option value="failed" selected>');
    const web = await t.app.inject({ url: "/?repo=acme/web", headers: HTML });
    expect(rowsOf(web.body)).toEqual(["eng-3"]);
    expect(web.body).toContain('<option value="acme/web" selected>');

    const api = (await t.app.inject({ url: "/api/tasks?state=working&repo=acme/widgets" })).json();
    expect(api.tasks.map((x: { issueId: string }) => x.issueId)).toEqual(["eng-2"]);
    expect(api.filter).toEqual({ state: "working", repo: "acme/widgets" });
    // Figures stay workforce-wide whatever the filter.
    expect(api.figures).toMatchObject({ tasks: 5, done: 1, prsOpened: 2, mergeRate: 1, active: 1, queued: 1 });
    expect(api.needsYou.map((n: { kind: string; issueId: string }) => `${n.kind}:${n.issueId}`)).toEqual([
      "failed:eng-4",
      "review:eng-3",
    ]);
    const none = (await t.app.inject({ url: "/api/tasks?state=merged&repo=acme/web" })).json();
    expect(none.tasks).toEqual([]);
  });

  it("serves Bull Board over every queue at /admin/queues", async () => {
    t = await startTestApp();
    const page = await t.app.inject({ url: "/admin/queues", headers: HTML });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("agent-workforce");
    const queues = (await t.app.inject({ url: "/admin/queues/api/queues" })).json();
    expect(queues.queues.map((q: { name: string }) => q.name).sort()).toEqual([
      "ack",
      "feedback",
      "implement",
      "lifecycle",
      "reconcile",
      "revise",
    ]);
    const asset = await t.app.inject({ url: "/admin/queues/static/favicon-32x32.png" });
    expect(asset.statusCode).toBe(200);
  });
});

describe("ADMIN_TOKEN", () => {
  const TOKEN = "s3cret";

  it("refuses requests without the token and admits Bearer, ?token= and the cookie it sets", async () => {
    t = await startTestApp({ ADMIN_TOKEN: TOKEN, REDIS_PREFIX: uniquePrefix("dash") });
    await seedWorkforce(t.deps.tasks);
    const app = t.app;

    const page = await app.inject({ url: "/", headers: HTML });
    expect(page.statusCode).toBe(401);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.body).toContain("?token=");
    expect(page.body).not.toContain("eng-1");
    const api = await app.inject({ url: "/api/tasks" });
    expect(api.statusCode).toBe(401);
    expect(api.json().error).toContain("Authorization: Bearer <ADMIN_TOKEN>");
    expect((await app.inject({ url: "/api/events" })).statusCode).toBe(401);
    expect((await app.inject({ url: "/api/tasks", headers: { authorization: "Bearer wrong" } })).statusCode).toBe(401);
    expect((await app.inject({ url: "/api/tasks?token=wrong" })).statusCode).toBe(401);
    expect((await app.inject({ url: "/api/tasks", headers: { cookie: `${SESSION_COOKIE}=forged` } })).statusCode).toBe(401);

    const bearer = await app.inject({ url: "/", headers: { ...HTML, authorization: `Bearer ${TOKEN}` } });
    expect(bearer.statusCode).toBe(200);
    expect(rowsOf(bearer.body)).toHaveLength(5);

    // A page opened with ?token= gets the cookie and a redirect that drops the token from the URL.
    const login = await app.inject({ url: `/?state=failed&token=${TOKEN}`, headers: HTML });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe("/?state=failed");
    const setCookie = String(login.headers["set-cookie"]);
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[^;]+; Path=/; HttpOnly; SameSite=Lax`));
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(";")[0] as string;
    const withCookie = await app.inject({ url: "/?state=failed", headers: { ...HTML, cookie } });
    expect(withCookie.statusCode).toBe(200);
    expect(rowsOf(withCookie.body)).toEqual(["eng-4"]);

    // An API call with ?token= is answered directly.
    const apiToken = await app.inject({ url: `/api/tasks?token=${TOKEN}` });
    expect(apiToken.statusCode).toBe(200);
    expect(apiToken.json().tasks).toHaveLength(5);

    // The guard stays inside the dashboard plugin.
    expect((await app.inject({ url: "/healthz" })).statusCode).toBe(200);
  });

  it("protects /admin/queues the same way", async () => {
    t = await startTestApp({ ADMIN_TOKEN: TOKEN, REDIS_PREFIX: uniquePrefix("dash") });
    expect((await t.app.inject({ url: "/admin/queues", headers: HTML })).statusCode).toBe(401);
    expect((await t.app.inject({ url: "/admin/queues/api/queues" })).statusCode).toBe(401);
    expect((await t.app.inject({ method: "PUT", url: "/admin/queues/api/queues/implement/pause" })).statusCode).toBe(401);
    const ok = await t.app.inject({ url: "/admin/queues", headers: { ...HTML, authorization: `Bearer ${TOKEN}` } });
    expect(ok.statusCode).toBe(200);
    const api = await t.app.inject({ url: "/admin/queues/api/queues", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(api.statusCode).toBe(200);
    expect(api.json().queues).toHaveLength(6);
  });
});

describe("GET /api/events", () => {
  it("sends a snapshot, then every task change, over one subscriber shared by all clients", async () => {
    t = await startTestApp();
    await seedTask(t.deps.tasks, { id: "eng-7", title: "Live one", state: "working" });
    const base = await listen(t.app);

    const a = await openSse(`${base}/api/events`);
    const b = await openSse(`${base}/api/events?state=failed`);
    streams.push(a, b);
    expect(a.status).toBe(200);
    expect(a.headers.get("content-type")).toContain("text/event-stream");
    const snapshot = JSON.parse((await a.next((e) => e.event === "snapshot")).data);
    expect(snapshot.tasks.map((x: { issueId: string }) => x.issueId)).toEqual(["eng-7"]);
    expect(snapshot.figures.active).toBe(1);
    expect(JSON.parse((await b.next((e) => e.event === "snapshot")).data).tasks).toEqual([]);

    const [, subscribers] = (await t.deps.redis.pubsub("NUMSUB", t.deps.tasks.channel)) as [string, number];
    expect(subscribers).toBe(1);

    await t.deps.tasks.update("eng-7", () => ({ state: "pr-open", prNumber: 9, prUrl: "https://github.com/acme/widgets/pull/9" }));
    for (const s of [a, b]) {
      const event = await s.next((e) => e.event === "task" && JSON.parse(e.data).state === "pr-open");
      expect(JSON.parse(event.data)).toMatchObject({ issueId: "eng-7", state: "pr-open", prNumber: 9 });
    }
  });

  it("sends keep-alive comments and lets the server close with streams open", async () => {
    t = await startTestApp();
    // A bare app over the same deps, with a short ping interval.
    const app = Fastify();
    await app.register(dashboardRoutes, { deps: t.deps, pingMs: 50 });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const s = await openSse(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/events`);
    streams.push(s);
    await s.next((e) => e.event === "snapshot");
    await new Promise((r) => setTimeout(r, 200));
    expect(s.comments.filter((c) => c === ": ping").length).toBeGreaterThanOrEqual(2);

    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    const [, subscribers] = (await t.deps.redis.pubsub("NUMSUB", t.deps.tasks.channel)) as [string, number];
    expect(subscribers).toBe(0);
  });
});
