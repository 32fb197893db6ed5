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
 *
 * Every option the SDK would otherwise take from the environment is passed explicitly: config.ts is
 * the one place that reads the environment, so a stray ANTHROPIC_* variable on a worker cannot
 * change credentials, endpoint, logging or tracing behind its back.
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
  // ANTHROPIC_CUSTOM_HEADERS is the one variable the SDK (1.12) merges in whatever it is given;
  // no public option turns it off, so deployments should not set it.
  return new Anthropic({
    apiKey: p.apiKey,
    // null, not undefined: undefined makes the SDK fall back to ANTHROPIC_AUTH_TOKEN,
    // ANTHROPIC_WEBHOOK_SIGNING_KEY and ANTHROPIC_BASE_URL.
    authToken: null,
    webhookKey: null,
    baseURL: p.baseUrl ?? null,
    // The SDK's own default, stated so that ANTHROPIC_LOG is not read (it can log request bodies).
    logLevel: "warn",
    // Defaults, stated so that ANTHROPIC_OPEN_TELEMETRY_* is not read (it can put prompts in spans).
    openTelemetry: {},
    defaultHeaders: {},
    maxRetries: p.maxRetries ?? 4,
    fetch: fetchWithSpendLimit,
  });
}
