import type { FastifyInstance, FastifyReply } from "fastify";
import { type LinearApp, OrganizationNotAllowedError } from "./app-auth.js";
import { readCookie, STATE_COOKIE, STATE_TTL_MS, type StateProblem } from "./install-state.js";
import { page } from "./pages.js";
import { CALLBACK_PATH } from "./settings.js";
import { OAuthTokenError } from "./token-endpoint.js";

/** Where an admin starts the install. */
export const INSTALL_PATH = "/oauth/linear/install";

const STATE_PROBLEMS: Record<StateProblem, string> = {
  missing: "The link from Linear carried no state, so it cannot be matched to an install started here.",
  malformed: "The state in the link from Linear is not one this service issued.",
  forged: "The state in the link from Linear is not signed by this service.",
  expired: `The install link expired (they last ${STATE_TTL_MS / 60_000} minutes).`,
  "other-browser": "The install was started in another browser (or its cookie was cleared): finish it where it started.",
};

/**
 * GET /oauth/linear/install and /oauth/linear/callback: install the Linear OAuth app (actor=app)
 * into a workspace. Registered only when the app is configured; unlike the webhook routes these
 * call Linear (the token exchange and `viewer`), because an admin waits on the page for the result.
 */
export async function linearInstallRoutes(app: FastifyInstance, opts: { linearApp: LinearApp }): Promise<void> {
  const { linearApp } = opts;
  const { redirectUri } = linearApp.config;
  const secure = redirectUri?.startsWith("https:") ?? false;

  app.get(INSTALL_PATH, async (_req, reply) => {
    if (!redirectUri) return html(reply, 503, "Install unavailable", ["Set PUBLIC_URL (this service's public base URL) so Linear can send you back here after the install."]);
    const { state, nonce } = linearApp.state.issue();
    const url = new URL(linearApp.config.authorizeUrl);
    url.search = new URLSearchParams({
      client_id: linearApp.config.clientId,
      redirect_uri: redirectUri,
      response_type: "code",
      scope: linearApp.config.scopes.join(","),
      state,
      actor: "app",
    }).toString();
    const cookie = [`${STATE_COOKIE}=${nonce}`, "Path=/oauth/linear", `Max-Age=${STATE_TTL_MS / 1000}`, "HttpOnly", "SameSite=Lax", ...(secure ? ["Secure"] : [])];
    return reply.code(302).header("cache-control", "no-store").header("set-cookie", cookie.join("; ")).redirect(url.toString());
  });

  app.get(CALLBACK_PATH, async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const restart = { href: INSTALL_PATH, text: "Start the install again" };
    if (q.error) {
      const why = q.error === "access_denied" ? "The install was cancelled in Linear, so nothing was installed." : `Linear did not authorize the app (${q.error}).`;
      return html(reply, 400, "Not installed", [why, ...(q.error_description ? [`Linear said: ${q.error_description}`] : [])], restart);
    }
    const problem = linearApp.state.check(q.state, readCookie(req.headers.cookie, STATE_COOKIE));
    if (problem) return html(reply, 400, "Install link not accepted", [STATE_PROBLEMS[problem], "Nothing was installed."], restart);
    if (!q.code) return html(reply, 400, "Not installed", ["The link from Linear carried no authorization code."], restart);
    reply.header("set-cookie", `${STATE_COOKIE}=; Path=/oauth/linear; Max-Age=0; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`);
    try {
      const inst = await linearApp.install(q.code);
      return html(reply, 200, "Installed", [
        `agent-workforce is now installed in the Linear workspace ${inst.organizationName}.`,
        "Delegate an issue to it or @mention it in Linear to hand it work.",
      ]);
    } catch (err) {
      if (err instanceof OrganizationNotAllowedError) {
        req.log.warn({ organization: err.organizationName }, "Linear app install refused: workspace not in LINEAR_ALLOWED_ORGANIZATIONS");
        return html(reply, 403, "Workspace not allowed", [
          `The Linear workspace ${err.organizationName} is not allowed to install this agent-workforce deployment.`,
          "Nothing was installed. Its operator lists the allowed workspaces in LINEAR_ALLOWED_ORGANIZATIONS.",
        ]);
      }
      req.log.warn({ err: (err as Error).message }, "Linear app install failed");
      const why = err instanceof OAuthTokenError ? `Linear refused the authorization code: ${err.description || err.code || `HTTP ${err.status}`}.` : "Linear could not be reached to finish the install.";
      return html(reply, 502, "Not installed", [why, "Nothing was installed."], restart);
    }
  });
}

function html(reply: FastifyReply, status: number, title: string, paragraphs: string[], link?: { href: string; text: string }) {
  return reply.code(status).header("cache-control", "no-store").type("text/html; charset=utf-8").send(page(title, paragraphs, link));
}
