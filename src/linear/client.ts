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
import { classifyRequest, type RequestClass } from "./request-class.js";
import type { TokenBudget } from "./request-budget.js";
import { sleep } from "../sleep.js";

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

/** The shared request budget a client's requests wait for (see request-budget.ts). */
export interface LinearPacing {
  /** The budget of the token this client uses (an app's organization is known only when asked). */
  budget(): Promise<TokenBudget>;
  /** Forces every request of this client to one priority (e.g. a first activity Linear expects within 10 s). */
  priority?: RequestClass["priority"];
}

/**
 * The SDK's GraphQL client, whose requests wait for the token's shared budget and back off and
 * retry when Linear answers RATELIMITED (HTTP 400 with the code in the body, or 429), pausing
 * the budget for every process. Both the SDK's model queries and raw queries
 * (`client.rawRequest`) go through it.
 */
class BackoffGraphQLClient extends LinearGraphQLClient {
  constructor(
    url: string,
    options: RequestInit,
    private readonly baseDelayMs: number,
    private readonly signal: AbortSignal | undefined,
    private readonly tokens?: LinearTokenSource,
    private readonly pacing?: LinearPacing,
  ) {
    super(url, options);
  }

  override request<Data, V extends Vars>(document: string, variables?: V, headers?: Headers): Promise<Data> {
    const send = this.paced(document, variables, (h: Headers) => super.request<Data, V>(document, variables, h));
    return withBackoff(() => this.authorized(send, headers), this.baseDelayMs, this.signal, (ms) => this.pause(ms));
  }

  override rawRequest<Data, V extends Vars>(query: string, variables?: V, headers?: Headers): Promise<LinearRawResponse<Data>> {
    const send = this.paced(query, variables, (h: Headers) => super.rawRequest<Data, V>(query, variables, h));
    return withBackoff(() => this.authorized(send, headers), this.baseDelayMs, this.signal, (ms) => this.pause(ms));
  }

  // Every request that reaches Linear (a retry and a 401's second try too) waits for the budget.
  private paced<T>(document: string, variables: Vars | undefined, send: (h: Headers) => Promise<T>): (h: Headers) => Promise<T> {
    const pacing = this.pacing;
    if (!pacing) return send;
    const cls = pacing.priority ? { priority: pacing.priority } : classifyRequest(document, variables);
    return async (h) => (await pacing.budget()).run(cls, () => send(h), this.signal);
  }

  private async pause(ms: number): Promise<void> {
    if (this.pacing) await (await this.pacing.budget()).pause(ms);
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

  constructor(options: LinearClientParsedOptions, baseDelayMs: number, tokens?: LinearTokenSource, pacing?: LinearPacing) {
    const client = new BackoffGraphQLClient(options.apiUrl, options, baseDelayMs, options.signal ?? undefined, tokens, pacing);
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
 * OAuth app's tokens of one organization (`tokens`), renewed as they expire or are refused. With
 * `pacing`, every request waits for the token's Redis-shared budget.
 */
export function createLinearClient(
  p: ({ apiKey: string; tokens?: undefined } | { tokens: LinearTokenSource; apiKey?: undefined }) & {
    apiUrl: string;
    signal?: AbortSignal;
    baseDelayMs?: number;
    pacing?: LinearPacing;
  },
): LinearClient {
  const options: LinearClientParsedOptions = {
    apiUrl: p.apiUrl,
    headers: { ...(p.apiKey !== undefined ? { Authorization: p.apiKey } : {}), "User-Agent": "agent-workforce" },
    ...(p.signal ? { signal: p.signal } : {}),
  };
  return new BackoffLinearClient(options, p.baseDelayMs ?? 1_000, p.tokens, p.pacing);
}

async function withBackoff<T>(call: () => Promise<T>, baseMs: number, signal: AbortSignal | undefined, onRateLimited: (ms: number) => Promise<void>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      // Model queries throw the raw GraphQL error (the request function parses it), raw queries
      // a parsed one; parseLinearError classifies both alike.
      const parsed = parseLinearError(err as Parameters<typeof parseLinearError>[0]);
      if (!(parsed instanceof RatelimitedLinearError) || signal?.aborted) throw err;
      const wait = waitFor(parsed, attempt, baseMs);
      // Linear's budget is the token's, not this request's: every process holds back, not only this one.
      await onRateLimited(wait);
      if (attempt >= MAX_RETRIES) throw err;
      await sleep(wait, signal);
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
