import type { Usage } from "../tasks/task.js";
import { baseModelId } from "./models.js";

/** USD per million tokens. Cache writes use the 5-minute TTL rate, which is what the agent asks for. */
export interface Rates {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

/**
 * What a model costs: its rates and, for models priced by prompt length, the rates of a request
 * whose prompt (input, cache writes and cache reads) is over `aboveTokens`, which then apply to
 * every token of that request, output included.
 */
export interface ModelPrices {
  rates: Rates;
  longPrompt?: { aboveTokens: number; rates: Rates };
}

/** Rates with Anthropic's usual cache multipliers: 1.25× input to write (5 minutes), 0.1× to read. */
export function standardRates(input: number, output: number, cacheRead = input * 0.1): Rates {
  return { input, output, cacheWrite: input * 1.25, cacheRead };
}

const flat = (input: number, output: number, cacheRead?: number): ModelPrices => ({
  rates: standardRates(input, output, cacheRead),
});

// Sonnet 4 and 4.5 bill a request over 200k input tokens (their 1M-context beta) at $6 / $22.50.
const SONNET_4_LONG_CONTEXT: ModelPrices = {
  ...flat(3, 15),
  longPrompt: { aboveTokens: 200_000, rates: standardRates(6, 22.5) },
};

// The one price table, from Anthropic's pricing page (platform.claude.com/docs/en/about-claude/pricing)
// and each model's page there. Keys are model ids; a dated snapshot (`-20251001`) or `-latest` of an
// id has its prices. Models missing here are refused at start-up unless AGENT_MODEL_PRICES has them.
const TABLE: Readonly<Record<string, ModelPrices>> = {
  "claude-fable-5-2": flat(8, 40, 0.2),
  "claude-mythos-5-2": flat(8, 40, 0.2),
  "claude-fable-5-1": flat(10, 50, 0.25),
  "claude-mythos-5-1": flat(10, 50, 0.25),
  "claude-fable-5": flat(10, 50),
  "claude-mythos-5": flat(10, 50),
  "claude-opus-5-5": flat(4, 20, 0.2),
  "claude-opus-5": flat(5, 25),
  "claude-opus-4-8": flat(5, 25),
  "claude-opus-4-7": flat(5, 25),
  "claude-opus-4-6": flat(5, 25),
  "claude-opus-4-5": flat(5, 25),
  "claude-opus-4-1": flat(15, 75),
  "claude-opus-4": flat(15, 75),
  "claude-opus-4-0": flat(15, 75),
  "claude-3-opus": flat(15, 75),
  "claude-sonnet-5-5": flat(2, 10, 0.1),
  "claude-sonnet-5": flat(2, 10),
  "claude-sonnet-4-6": flat(3, 15),
  "claude-sonnet-4-5": SONNET_4_LONG_CONTEXT,
  "claude-sonnet-4": SONNET_4_LONG_CONTEXT,
  "claude-sonnet-4-0": SONNET_4_LONG_CONTEXT,
  "claude-3-7-sonnet": flat(3, 15),
  "claude-3-5-sonnet": flat(3, 15),
  "claude-haiku-5-5": {
    ...flat(0.1, 0.5, 0.01),
    longPrompt: { aboveTokens: 100_000, rates: standardRates(0.5, 2.5, 0.05) },
  },
  "claude-haiku-4-5": flat(1, 5),
  "claude-3-5-haiku": flat(0.8, 4, 0.08),
  "claude-3-haiku": { rates: { input: 0.25, output: 1.25, cacheWrite: 0.3, cacheRead: 0.03 } },
};

/** Model ids the built-in table prices (each also as a dated snapshot or `-latest`). */
export const KNOWN_MODELS: readonly string[] = Object.freeze(Object.keys(TABLE));

/** Prices of the models the service accepts: the built-in table, overridden by AGENT_MODEL_PRICES. */
export class Pricing {
  constructor(private readonly configured: Readonly<Record<string, ModelPrices>> = {}) {}

  /** The prices of a model id, or undefined when neither the table nor the configuration has it. */
  pricesOf(model: string): ModelPrices | undefined {
    const own = (table: Readonly<Record<string, ModelPrices>>, id: string) =>
      Object.hasOwn(table, id) ? table[id] : undefined;
    const base = baseModelId(model);
    return own(this.configured, model) ?? own(TABLE, model) ?? own(this.configured, base) ?? own(TABLE, base);
  }

  /** Cost in USD of one request's usage; the tier is chosen per request, so never pass sums. */
  costOf(model: string, u: Usage): number {
    const prices = this.pricesOf(model);
    if (!prices) {
      throw new Error(
        `no prices for model ${model}: known models are ${KNOWN_MODELS.join(", ")}; ` +
          "price it in AGENT_MODEL_PRICES and pass the configured Pricing to the runner",
      );
    }
    const prompt = u.input + u.cacheWrite + u.cacheRead;
    const tier = prices.longPrompt && prompt > prices.longPrompt.aboveTokens ? prices.longPrompt.rates : prices.rates;
    return (
      (u.input * tier.input + u.output * tier.output + u.cacheWrite * tier.cacheWrite + u.cacheRead * tier.cacheRead) /
      1e6
    );
  }
}

const BUILT_IN = new Pricing();

/** Cost in USD of one request's usage on a model; `pricing` adds the configured prices. */
export function costOf(model: string, u: Usage, pricing: Pricing = BUILT_IN): number {
  return pricing.costOf(model, u);
}

/** Formats dollars for humans: cents precision, more below a cent. */
export function formatUsd(usd: number): string {
  return usd < 0.01 && usd > 0 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}
