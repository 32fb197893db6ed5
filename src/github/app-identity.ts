import type { GitHubIdentity } from "./access.js";
import type { GitHub } from "./octokit.js";

/** Remembers a successful `look` for the process; a failed one is asked again next time. */
function once<T>(look: (signal?: AbortSignal) => Promise<T>): (signal?: AbortSignal) => Promise<T> {
  let found: Promise<T> | undefined;
  return (signal) =>
    (found ??= look(signal).catch((err: unknown) => {
      found = undefined;
      throw err;
    }));
}

/** The App's slug (GET /app with its JWT), asked once per process. */
export function appSlugLookup(asApp: GitHub, appId: string): (signal?: AbortSignal) => Promise<string> {
  return once(async (signal) => {
    const { data } = await asApp.rest.apps.getAuthenticated({ request: { signal } });
    if (!data?.slug) throw new Error(`GET /app answered without the App's slug (GITHUB_APP_ID ${appId})`);
    return data.slug;
  });
}

/**
 * The bot's login (`<slug>[bot]`) and commit identity, asked once per process. Its user id is read
 * with any installation's token (`installationClient`), as GET /user does not work with one.
 */
export function botIdentityLookup(o: {
  asApp: GitHub;
  slug: (signal?: AbortSignal) => Promise<string>;
  installationClient: (installationId: number) => GitHub;
}): (signal?: AbortSignal) => Promise<GitHubIdentity> {
  return once(async (signal) => {
    const name = await o.slug(signal);
    const login = `${name}[bot]`;
    const { data: list } = await o.asApp.rest.apps.listInstallations({ per_page: 1, request: { signal } });
    const first = list[0];
    if (!first) throw new Error(`the GitHub App ${name} has no installation yet: install it on the repositories it should work on`);
    const { data: user } = await o.installationClient(first.id).rest.users.getByUsername({ username: login, request: { signal } });
    return { login, name: login, email: `${user.id}+${login}@users.noreply.github.com` };
  });
}
