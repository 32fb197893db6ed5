import type { createAppAuth } from "@octokit/auth-app";
import type { GitHub } from "./octokit.js";

export type AppAuth = ReturnType<typeof createAppAuth>;
type AuthHookRequest = Parameters<AppAuth["hook"]>[0];
/** The next hook inward, and the options every hook of one request shares. */
export type Options = Required<GitHub["request"]["endpoint"]["DEFAULTS"]>;
type Response = Awaited<ReturnType<AppAuth["hook"]>>;
export type Send = (options: Options) => Response | Promise<Response>;

/**
 * Puts `auth`'s request hook on `gh` as its outermost hook, so the hook's own work (the App's JWT
 * on /app routes with a retry for clock skew, the installation token elsewhere with a back-off
 * while a new token replicates) goes through retry, throttling and the shared budget, which stay
 * inside it. `mint` is the request new installation tokens are asked with (the App's Octokit, so
 * they spend the App's budget).
 *
 * Octokit registers an `authStrategy`'s hook first, i.e. innermost, beneath the budget. A hook
 * wrapped later receives the next hook bound to the original options, not a request function, so
 * auth-app is handed one that carries the Authorization it chose over to those options.
 */
export function useAuthHook(gh: GitHub, auth: AppAuth, mint: GitHub["request"]): void {
  gh.hook.wrap("request", (send, options) => sendWithAuth(gh, auth, mint, send, options));
}

/** Sends `options` through `auth`'s request hook from a hook wrapped around `gh`'s requests (see {@link useAuthHook}). */
export function sendWithAuth(gh: GitHub, auth: AppAuth, mint: GitHub["request"], send: Send, options: Options): Promise<Response> {
  return auth.hook(requestFor(gh, send, options, mint), options);
}

function requestFor(gh: GitHub, send: Send, options: Options, mint: GitHub["request"]): AuthHookRequest {
  const request = async (route: unknown): Promise<Response> => {
    const authorization = (route as { headers?: Record<string, unknown> }).headers?.authorization;
    if (typeof authorization === "string") options.headers.authorization = authorization;
    return send(options);
  };
  // auth-app reads `endpoint` to merge and classify the route, and calls `defaults` only to mint a token.
  return Object.assign(request, { endpoint: gh.request.endpoint, defaults: () => mint }) as unknown as AuthHookRequest;
}
