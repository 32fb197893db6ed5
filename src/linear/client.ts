import { LinearClient, RatelimitedLinearError } from "@linear/sdk";

/** How often a rate-limited Linear request is tried again before the error reaches the job. */
const MAX_RETRIES = 4;
const MAX_WAIT_MS = 60_000;

/**
 * A LinearClient bound to one job's AbortSignal (the SDK passes extra options to every fetch),
 * whose requests back off and retry when Linear answers RATELIMITED (HTTP 400, not 429).
 */
export function createLinearClient(p: {
  apiKey: string;
  apiUrl: string;
  signal?: AbortSignal;
  baseDelayMs?: number;
}): LinearClient {
  const client = new LinearClient({ apiKey: p.apiKey, apiUrl: p.apiUrl, ...(p.signal ? { signal: p.signal } : {}) });
  const gql = client.client;
  const base = p.baseDelayMs ?? 1_000;
  const request = gql.request.bind(gql);
  const rawRequest = gql.rawRequest.bind(gql);
  gql.request = ((...args: Parameters<typeof request>) => withBackoff(() => request(...args), base, p.signal)) as typeof gql.request;
  gql.rawRequest = ((...args: Parameters<typeof rawRequest>) =>
    withBackoff(() => rawRequest(...args), base, p.signal)) as typeof gql.rawRequest;
  return client;
}

async function withBackoff<T>(call: () => Promise<T>, baseMs: number, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof RatelimitedLinearError) || attempt >= MAX_RETRIES || signal?.aborted) throw err;
      await sleep(waitFor(err, attempt, baseMs), signal);
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
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
