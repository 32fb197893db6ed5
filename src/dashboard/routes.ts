import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Deps } from "../deps.js";
import { createRedis } from "../redis.js";
import { adminGuard } from "./auth.js";
import { TaskEventHub } from "./event-hub.js";
import { parseFilter } from "./filters.js";
import { registerQueueBoard } from "./queue-board.js";
import { renderPage } from "./render.js";
import { loadTasks, loadView, viewJson } from "./view.js";

export interface DashboardOptions {
  deps: Deps;
  /** Keep-alive comment interval of the event stream (tests shorten it). */
  pingMs?: number;
  /** How often the live model is re-read from Redis while pages are open (tests shorten it). */
  reloadMs?: number;
}

const csp = (nonce: string) =>
  [
    "default-src 'self'",
    `script-src 'nonce-${nonce}'`,
    "style-src 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");

/**
 * The dashboard: `GET /` (the page), `GET /api/tasks` (JSON), `GET /api/events` (server-sent task
 * events: deltas for the page, records for other clients) and Bull Board at `/admin/queues`. Everything here sits behind ADMIN_TOKEN when it is
 * set; when it is not, the dashboard and the queue admin are open to anyone who reaches the port,
 * so deployments that expose the port must set it. Register without fastify-plugin: the guard
 * must stay inside this plugin and never reach the webhook routes.
 */
export async function dashboardRoutes(app: FastifyInstance, opts: DashboardOptions): Promise<void> {
  const { deps } = opts;
  const hub = new TaskEventHub({
    channel: deps.tasks.channel,
    connect: () => createRedis(deps.config.redisUrl, "worker"),
    logger: deps.logger.child({ component: "dashboard" }),
    pingMs: opts.pingMs,
    view: { load: () => loadTasks(deps), spend: () => deps.spend.day(), dailyBudgetUsd: deps.config.agent.dailyBudgetUsd, reloadMs: opts.reloadMs },
  });
  // Open event streams would keep server.close() waiting forever; end them as closing starts.
  app.addHook("preClose", async () => hub.endAll());
  app.addHook("onClose", async () => hub.close());
  app.addHook("onRequest", adminGuard(deps.config.adminToken));

  app.get("/", async (req, reply) => {
    // Taken before the read: the page's stream replays every change after it, so none is lost
    // between this read and the stream's start. A live model that cannot start leaves the page
    // without one (its stream then asks for a full refresh).
    const seq = await hub.position().catch((err: unknown) => {
      deps.logger.warn({ err }, "dashboard live model unavailable; the page will refresh once its stream starts");
      return "";
    });
    const view = await loadView(deps, parseFilter(req.query));
    const nonce = randomBytes(16).toString("base64");
    return reply
      .header("content-security-policy", csp(nonce))
      .header("referrer-policy", "no-referrer")
      .header("cache-control", "no-store")
      .type("text/html; charset=utf-8")
      .send(renderPage({ ...view, now: Date.now(), nonce, seq, unsandboxed: deps.config.agent.sandbox === "none" }));
  });

  app.get("/api/tasks", async (req, reply) => {
    reply.header("cache-control", "no-store");
    return viewJson(await loadView(deps, parseFilter(req.query)));
  });

  app.get("/api/events", async (req, reply) => {
    const filter = parseFilter(req.query);
    // Keeps the session cookie the guard may have set for a `?token=` stream.
    const cookie = reply.getHeader("set-cookie");
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...(cookie === undefined ? {} : { "set-cookie": Array.isArray(cookie) ? cookie : String(cookie) }),
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      // Tells nginx-style proxies not to buffer the stream.
      "x-accel-buffering": "no",
    });
    res.write("retry: 3000\n\n");
    // The page says where it stands (`?since=`, then Last-Event-ID on a reconnect) and gets deltas;
    // any other client gets a snapshot of the view, then every task record as it changes.
    const since = req.headers["last-event-id"] ?? (req.query as { since?: unknown }).since;
    if (typeof since === "string") await hub.openPage(res, filter, since);
    else await hub.open(res, async () => JSON.stringify(viewJson(await loadView(deps, filter))));
  });

  await registerQueueBoard(app, deps.queues);
}
