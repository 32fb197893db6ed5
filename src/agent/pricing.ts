import type { Usage } from "../tasks/task.js";

/** USD per million tokens. Cache writes use the 5-minute TTL rate, which is what the agent asks for. */
export interface Rates {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

const rates = (input: number, output: number, readFactor = 0.1): Rates => ({
  input,
  output,
  cacheWrite: input * 1.25,
  cacheRead: input * readFactor,
});

// From Anthropic's pricing page (platform.claude.com/docs/en/about-claude/pricing). First match
// wins, so specific versions come before the family fallbacks.
const TABLE: Array<[RegExp, Rates]> = [
  [/^claude-(fable|mythos)-5-[1-9]/, rates(10, 50, 0.025)],
  [/^claude-(fable|mythos)-5/, rates(10, 50)],
  [/^claude-opus-5-5/, rates(4, 20, 0.05)],
  [/^claude-opus-(4-[5-9]|5)/, rates(5, 25)],
  [/^claude-opus-/, rates(15, 75)],
  [/^claude-3-opus/, rates(15, 75)],
  [/^claude-sonnet-5-5/, rates(2, 10, 0.05)],
  [/^claude-sonnet-5/, rates(2, 10)],
  [/^claude-(sonnet-|3-[57]-sonnet)/, rates(3, 15)],
  [/^claude-haiku-5-5/, rates(0.1, 0.5)],
  [/^claude-3-5-haiku/, rates(0.8, 4)],
  [/^claude-3-haiku/, rates(0.25, 1.25)],
  [/^claude-haiku-/, rates(1, 5)],
];

/** Sonnet rates: a sensible middle for a model this table does not know yet. */
export const FALLBACK_RATES: Rates = rates(3, 15);

/** The rates of a model id, and whether the table knew it. */
export function ratesFor(model: string): { rates: Rates; known: boolean } {
  const hit = TABLE.find(([re]) => re.test(model));
  return hit ? { rates: hit[1], known: true } : { rates: FALLBACK_RATES, known: false };
}

/** Cost in USD of some usage on a model. */
export function costOf(model: string, u: Usage): number {
  const r = ratesFor(model).rates;
  return (
    (u.input * r.input + u.output * r.output + u.cacheWrite * r.cacheWrite + u.cacheRead * r.cacheRead) / 1e6
  );
}

/** Formats dollars for humans: cents precision, more below a cent. */
export function formatUsd(usd: number): string {
  return usd < 0.01 && usd > 0 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}
