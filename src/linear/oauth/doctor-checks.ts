import type { Config } from "../../config.js";
import { createLogger } from "../../logger.js";
import { createRedis, pingWithin, withTimeout } from "../../redis.js";
import { LinearApp } from "./app-auth.js";
import { INSTALL_PATH } from "./install-routes.js";

/** One doctor line. */
export interface AppCheck {
  ok: boolean;
  name: string;
  detail: string;
}

/**
 * What doctor says about the Linear OAuth app: the mode, the install link, and each installed
 * workspace with its token's expiry (never a token). Reads Redis only: no refresh, no Linear call.
 */
export async function linearAppChecks(config: Config, now = Date.now()): Promise<AppCheck[]> {
  const app = config.linear.app;
  if (!app) return [];
  const installUrl = config.publicUrl ? `${config.publicUrl}${INSTALL_PATH}` : undefined;
  const checks: AppCheck[] = [
    { ok: true, name: "linear mode", detail: `OAuth app (actor=app, client id ${app.clientId}); token endpoint ${app.tokenUrl}` },
    installUrl
      ? { ok: true, name: "linear install", detail: `${installUrl} (redirect URI ${app.redirectUri} must be listed in the app's callback URLs)` }
      : { ok: true, name: "linear install", detail: "PUBLIC_URL is not set: no browser install; only the client_credentials grant can give a token" },
  ];
  if (config.linear.apiKey) checks.push({ ok: true, name: "linear key", detail: "LINEAR_API_KEY is set but not used: the OAuth app acts in Linear" });
  const redis = createRedis(config.redisUrl, "producer", { lazyConnect: false });
  redis.on("error", () => undefined);
  try {
    // The producer connection queues nothing while it connects: wait until it is up.
    if (redis.status !== "ready") await withTimeout(new Promise((r) => redis.once("ready", r)), 2_000, "Redis did not answer");
    await pingWithin(redis, 2_000);
    const linearApp = new LinearApp(app, { apiUrl: config.linear.apiUrl, redis, prefix: config.redisPrefix, logger: createLogger({ level: "silent" }) });
    const installed = await linearApp.installations();
    if (installed.length === 0) {
      checks.push({ ok: false, name: "linear workspaces", detail: `none installed yet: ${installUrl ? `open ${installUrl}` : "set PUBLIC_URL and open PUBLIC_URL/oauth/linear/install"} (or allow client credentials in the app, which the first job then uses)` });
    }
    for (const i of installed) {
      const left = i.expiresAt - now;
      const expiry = left > 0 ? `token expires ${new Date(i.expiresAt).toISOString()} (in ${formatDuration(left)})` : `token expired ${new Date(i.expiresAt).toISOString()}; renewed on next use`;
      checks.push({ ok: true, name: "linear workspace", detail: `${i.organizationName} (${i.organizationId}): app user ${i.appUserId}, ${i.grant}; ${expiry}` });
    }
  } catch (err) {
    checks.push({ ok: false, name: "linear workspaces", detail: `could not read the installations from Redis: ${(err as Error).message}` });
  } finally {
    redis.disconnect();
  }
  return checks;
}

function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} days`;
}
