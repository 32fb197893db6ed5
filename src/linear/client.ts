import {
  AuthenticationLinearError,
  type LinearClient,
  type LinearClientParsedOptions,
  LinearGraphQLClient,
  type LinearRawResponse,
  LinearSdk,
  parseLinearError,
  RatelimitedLinearError,
} from "@linear/sdk";

/** How often a rate-limited Linear request is tried again before the error reaches the job. */
const MAX_RETRIES = 4;
const MAX_WAIT_MS = 60_000;

type Headers = RequestInit["headers"];
type Vars = Record<string, unknown>;

/** Where a client's Authorization header comes from when it is not a fixed API key (the OAuth app). */
export interface LinearTokenSource {
  /** The Authorization header for the next request (renewed first when the token is about to expire). */
  authorization(): Promise<string>;
  /** Linear refused `authorization` as unauthenticated: the header to retry with, once. */
  rejected(authorization: string): Promise<string>;
}

/**
 * The SDK's GraphQL client, whose requests back off and retry when Linear answers RATELIMITED
 * (HTTP 400 with the code in the body, not 429). Both the SDK's model queries and raw queries
 * (`client.rawRequest`) go through it.
 */
class BackoffGraphQLClient extends LinearGraphQLClient {
  constructor(
    url: string,
    options: RequestInit,
    private readonly baseDelayMs: number,
    private readonly signal: AbortSignal | undefined,
    private readonly tokens?: LinearTokenSource,
  ) {
    super(url, options);
  }

  override request<Data, V extends Vars>(document: string, variables?: V, headers?: Headers): Promise<Data> {
    const send = (h: Headers) => super.request<Data, V>(document, variables, h);
    return withBackoff(() => this.authorized(send, headers), this.baseDelayMs, this.signal);
  }

  override rawRequest<Data, V extends Vars>(query: string, variables?: V, headers?: Headers): Promise<LinearRawResponse<Data>> {
    const send = (h: Headers) => super.rawRequest<Data, V>(query, variables, h);
    return withBackoff(() => this.authorized(send, headers), this.baseDelayMs, this.signal);
  }

  // An app token can be refused before its recorded expiry (revoked, replaced, clocks apart):
  // one renewal and one retry, then the refusal stands.
  private async authorized<T>(send: (h: Headers) => Promise<T>, headers: Headers): Promise<T> {
    if (!this.tokens) return send(headers);
    const extra = headers as Record<string, string> | undefined;
    const auth = await this.tokens.authorization();
    try {
      return await send({ ...extra, Authorization: auth });
    } catch (err) {
      const parsed = parseLinearError(err as Parameters<typeof parseLinearError>[0]);
      if (!(parsed instanceof AuthenticationLinearError) || this.signal?.aborted) throw err;
      return send({ ...extra, Authorization: await this.tokens.rejected(auth) });
    }
  }
}

/**
 * A LinearClient built the way the SDK documents for a custom GraphQL client: LinearSdk with a
 * request function that parses errors as LinearClient does.
 */
class BackoffLinearClient extends LinearSdk {
  readonly options: LinearClientParsedOptions;
  readonly client: LinearGraphQLClient;

  constructor(options: LinearClientParsedOptions, baseDelayMs: number, tokens?: LinearTokenSource) {
    const client = new BackoffGraphQLClient(options.apiUrl, options, baseDelayMs, options.signal ?? undefined, tokens);
    super(<R, V extends Vars>(doc: string, variables?: V) =>
      client.request<R, V>(doc, variables).catch((err: unknown) => {
        throw parseLinearError(err as Parameters<typeof parseLinearError>[0]);
      }),
    );
    this.options = options;
    this.client = client;
  }
}

/**
 * A LinearClient bound to one job's AbortSignal (passed to every fetch), whose requests back off
 * and retry when Linear answers RATELIMITED. It authenticates with a fixed API key, or with the
 * OAuth app's tokens of one organization (`tokens`), renewed as they expire or are refused.
 */
export function createLinearClient(
  p: ({ apiKey: string; tokens?: undefined } | { tokens: LinearTokenSource; apiKey?: undefined }) & {
    apiUrl: string;
    signal?: AbortSignal;
    baseDelayMs?: number;
  },
): LinearClient {
  const options: LinearClientParsedOptions = {
    apiUrl: p.apiUrl,
    headers: { ...(p.apiKey !== undefined ? { Authorization: p.apiKey } : {}), "User-Agent": "agent-workforce" },
    ...(p.signal ? { signal: p.signal } : {}),
  };
  return new BackoffLinearClient(options, p.baseDelayMs ?? 1_000, p.tokens);
}

async function withBackoff<T>(call: () => Promise<T>, baseMs: number, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      // Model queries throw the raw GraphQL error (the request function parses it), raw queries
      // a parsed one; parseLinearError classifies both alike.
      const parsed = parseLinearError(err as Parameters<typeof parseLinearError>[0]);
      if (!(parsed instanceof RatelimitedLinearError) || attempt >= MAX_RETRIES || signal?.aborted) throw err;
      await sleep(waitFor(parsed, attempt, baseMs), signal);
    }
  }
}

// Linear says when the budget resets (retry-after seconds, or a reset timestamp); otherwise
// back off exponentially with jitter.
function waitFor(err: RatelimitedLinearError, attempt: number, baseMs: number): number {
  const now = Date.now();
  const hinted =
    typeof err.retryAfter === "number"
      ? err.retryAfter * 1000
      : typeof err.requestsResetAt === "number" && err.requestsResetAt > now
        ? err.requestsResetAt - now
        : undefined;
  const backoff = baseMs * 2 ** attempt * (0.75 + Math.random() / 2);
  return Math.min(hinted ?? backoff, MAX_WAIT_MS);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    // A job's signal lives as long as the job: do not leave a listener behind per wait.
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
