import type { GitHub } from "./octokit.js";

const TRUSTED_ASSOCIATIONS = new Set(["OWNER", "MEMBER", "COLLABORATOR"]);
const WRITE_OR_MORE = new Set(["admin", "maintain", "write"]);

/** The decision whether an author may direct the agent, with the reason that gets logged. */
export type Authority = { allowed: true; via: string } | { allowed: false; reason: string };

/**
 * Who may direct an agent: an OWNER, MEMBER or COLLABORATOR by association, or anyone whose
 * repository permission is write or more. Bots, including our own account, never may.
 */
export async function mayDirectAgent(
  octokit: GitHub,
  p: {
    owner: string;
    repo: string;
    author: { login: string; type: string; association: string };
    selfLogin: string | null;
    signal?: AbortSignal;
  },
): Promise<Authority> {
  const { login, type, association } = p.author;
  if (p.selfLogin && login.toLowerCase() === p.selfLogin.toLowerCase()) return { allowed: false, reason: "our own comment" };
  if (type === "Bot" || login.endsWith("[bot]")) return { allowed: false, reason: `${login} is a bot` };
  if (TRUSTED_ASSOCIATIONS.has(association)) return { allowed: true, via: `author_association ${association}` };
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({
      owner: p.owner,
      repo: p.repo,
      username: login,
      request: { signal: p.signal },
    });
    const permission = data.permission;
    if (WRITE_OR_MORE.has(permission)) return { allowed: true, via: `repository permission ${permission}` };
    return { allowed: false, reason: `${login} has ${permission} permission (write or more needed)` };
  } catch (err) {
    if ((err as { status?: number }).status === 404) return { allowed: false, reason: `${login} is not a collaborator` };
    throw err;
  }
}

/** Remembers the token's own login, so the agent never answers itself. */
export function selfLoginCache(octokit: GitHub): (signal?: AbortSignal) => Promise<string | null> {
  let login: Promise<string | null> | undefined;
  return (signal) => {
    login ??= octokit.rest.users
      .getAuthenticated({ request: { signal } })
      .then((r) => r.data.login)
      .catch(() => {
        login = undefined;
        return null;
      });
    return login;
  };
}
