import Anthropic from "@anthropic-ai/sdk";

// A 429 that means "out of money", not "slow down": retrying only burns time until the job fails.
const SPEND_LIMIT = /credit balance|spend(ing)? limit|usage limit|billing|quota/i;

/** True when an Anthropic error is a refusal for spend or credit reasons, which must not be retried. */
export function isSpendLimit(err: unknown): boolean {
  return err instanceof Anthropic.APIError && (err.status === 429 || err.status === 400 || err.status === 402) && SPEND_LIMIT.test(err.message);
}

/**
 * The Anthropic client. The SDK already retries 429 and 529 with backoff and honours
 * `retry-after`; this fetch wrapper marks spend-limit 429s with `x-should-retry: false`, which
 * the SDK obeys, so they fail at once with a message the job can pass on.
 */
export function createAnthropic(p: { apiKey: string; baseUrl?: string; maxRetries?: number }): Anthropic {
  const fetchWithSpendLimit: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (res.status !== 429) return res;
    const text = await res.clone().text();
    if (!SPEND_LIMIT.test(text)) return res;
    const headers = new Headers(res.headers);
    headers.set("x-should-retry", "false");
    return new Response(text, { status: res.status, statusText: res.statusText, headers });
  };
  return new Anthropic({
    apiKey: p.apiKey,
    baseURL: p.baseUrl ?? null,
    maxRetries: p.maxRetries ?? 4,
    fetch: fetchWithSpendLimit,
  });
}
