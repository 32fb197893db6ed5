import type { GitHub } from "./octokit.js";

/**
 * Legacy `permission` values that may push. GitHub maps maintain to write (and triage to read) in
 * this field, and custom roles to their base role, so it is the field to decide on; `role_name`
 * (the exact role, custom roles included) is only reported.
 */
const WRITE_OR_MORE = new Set(["admin", "maintain", "write"]);

/** The decision whether an author may direct the agent, with the reason that gets logged. */
export type Authority = { allowed: true; via: string } | { allowed: false; reason: string };

/** How long and how many permission answers a {@link PermissionCache} keeps. */
export interface PermissionCacheOptions {
  /** Default 60 s: a revoked (or newly granted) write permission takes effect within this time. */
  ttlMs?: number;
  /** Default 1,000; the oldest answer is dropped first. */
  maxEntries?: number;
  now?: () => number;
}

interface CacheEntry {
  at: number;
  /** The signal of the caller whose request is shared, to tell its abort from a real failure. */
  signal?: AbortSignal;
  decision: Promise<Authority>;
}

/**
 * A short, bounded, in-process memory of permission look-ups per repository and login. Callers
 * asking while a look-up is in flight share it, so one review's many webhooks cost one API call.
 */
export class PermissionCache {
  readonly #entries = new Map<string, CacheEntry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(opts: PermissionCacheOptions = {}) {
    this.#ttlMs = opts.ttlMs ?? 60_000;
    this.#maxEntries = Math.max(1, opts.maxEntries ?? 1000);
    this.#now = opts.now ?? Date.now;
  }

  /** The remembered decision for `key`, or the one `load` makes (failures are not remembered). */
  async lookUp(key: string, load: (signal?: AbortSignal) => Promise<Authority>, signal?: AbortSignal): Promise<Authority> {
    for (;;) {
      const entry = this.#fresh(key) ?? this.#store(key, load(signal), signal);
      try {
        return await untilAborted(entry.decision, signal);
      } catch (err) {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
        // Another caller's abort ended the shared request; this caller still wants the answer.
        if (entry.signal?.aborted && entry.signal !== signal && !signal?.aborted) continue;
        throw err;
      }
    }
  }

  #fresh(key: string): CacheEntry | undefined {
    const entry = this.#entries.get(key);
    if (entry && this.#now() - entry.at < this.#ttlMs) return entry;
    this.#entries.delete(key);
    return undefined;
  }

  #store(key: string, decision: Promise<Authority>, signal?: AbortSignal): CacheEntry {
    const entry: CacheEntry = { at: this.#now(), signal, decision };
    this.#entries.set(key, entry);
    decision.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(oldest);
    }
    return entry;
  }
}

function untilAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => (signal.removeEventListener("abort", onAbort), resolve(v)),
      (e) => (signal.removeEventListener("abort", onAbort), reject(e)),
    );
  });
}

/** One cache per Octokit client, so every job of a process shares it without wiring. */
const cachesByClient = new WeakMap<GitHub, PermissionCache>();

function cacheFor(octokit: GitHub): PermissionCache {
  let cache = cachesByClient.get(octokit);
  if (!cache) cachesByClient.set(octokit, (cache = new PermissionCache()));
  return cache;
}

/**
 * Who may direct an agent: anyone whose repository permission is write or more, asked of the API
 * (remembered briefly). Only OWNER is trusted from `author_association` alone, since it implies
 * admin; MEMBER and COLLABORATOR include read-only members. Bots, our own account included, never:
 * `selfLogin` is the token's user or the App's `<slug>[bot]` (compared without case), and any
 * other `[bot]` login or user of type Bot (another App, Dependabot) is refused as a bot.
 */
export async function mayDirectAgent(
  octokit: GitHub,
  p: {
    owner: string;
    repo: string;
    author: { login: string; type: string; association: string };
    selfLogin: string | null;
    signal?: AbortSignal;
    /** Defaults to one shared per `octokit`. */
    cache?: PermissionCache;
  },
): Promise<Authority> {
  const { login, type, association } = p.author;
  if (p.selfLogin && login.toLowerCase() === p.selfLogin.toLowerCase()) return { allowed: false, reason: "our own comment" };
  if (type === "Bot" || login.endsWith("[bot]")) return { allowed: false, reason: `${login} is a bot` };
  if (association === "OWNER") return { allowed: true, via: "author_association OWNER" };
  const key = `${p.owner}/${p.repo}/${login}`.toLowerCase();
  return (p.cache ?? cacheFor(octokit)).lookUp(key, (signal) => askPermission(octokit, { ...p, login, signal }), p.signal);
}

async function askPermission(
  octokit: GitHub,
  p: { owner: string; repo: string; login: string; signal?: AbortSignal },
): Promise<Authority> {
  const { login } = p;
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({
      owner: p.owner,
      repo: p.repo,
      username: login,
      request: { signal: p.signal },
    });
    const role = data.role_name && data.role_name !== data.permission ? ` (role ${data.role_name})` : "";
    if (WRITE_OR_MORE.has(data.permission)) return { allowed: true, via: `repository permission ${data.permission}${role}` };
    return { allowed: false, reason: `${login} has ${data.permission} permission${role} (write or more needed)` };
  } catch (err) {
    const status = (err as { status?: number }).status;
    // GitHub answers 404 for a login that is no user (an App's actor, a deleted account).
    if (status === 404) return { allowed: false, reason: `${login} is not a collaborator` };
    if (p.signal?.aborted) throw err;
    const fix =
      status === 401
        ? "GitHub rejected the credentials; check GITHUB_TOKEN (or the GitHub App's key and installation)"
        : status === 403
          ? "give GITHUB_TOKEN read access to the repository's metadata (a classic token needs push access; a GitHub App needs Metadata: read), or wait out a rate limit"
          : "the feedback job retries";
    throw new Error(
      `Could not check whether ${login} may direct the agent: GET /repos/${p.owner}/${p.repo}/collaborators/${login}/permission failed (${(err as Error).message}); ${fix}.`,
      { cause: err },
    );
  }
}
