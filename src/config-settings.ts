// Parsers for the structured settings of src/config.ts (which alone reads the environment):
// the sandbox's allowlist, configured model prices and the agent's context settings.
import { z } from "zod";
import { modelLimits } from "./agent/models.js";
import { type ModelPrices, type Rates, standardRates } from "./agent/pricing.js";

export const DEFAULT_ALLOWED_DOMAINS = [
  "registry.npmjs.org",
  "registry.yarnpkg.com",
  "pypi.org",
  "files.pythonhosted.org",
  "crates.io",
  "index.crates.io",
  "static.crates.io",
  "proxy.golang.org",
  "sum.golang.org",
  "repo.maven.apache.org",
  "repo1.maven.org",
  "rubygems.org",
  "index.rubygems.org",
] as const;

// A host name, *.domain or IP literal, optionally with :port ([v6]:port for IPv6 with a port).
/** One AGENT_ALLOWED_DOMAINS entry. */
export const ALLOWED_DOMAIN = /^((\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(:\d{1,5})?$|^[0-9a-f:.]+$/;

const usdPerMTok = z.number().finite().min(0);
const configuredRates = {
  input: usdPerMTok,
  output: usdPerMTok,
  cacheWrite: usdPerMTok.optional(),
  cacheRead: usdPerMTok.optional(),
};
const configuredModel = z
  .object({
    ...configuredRates,
    longPrompt: z.object({ aboveTokens: z.number().int().positive(), ...configuredRates }).strict().optional(),
  })
  .strict();
const PRICES_EXAMPLE =
  '{"my-model":{"input":3,"output":15,"cacheWrite":3.75,"cacheRead":0.3}} (USD per million tokens)';

type ConfiguredRates = { input: number; output: number; cacheWrite?: number | undefined; cacheRead?: number | undefined };

const toRates = (r: ConfiguredRates): Rates => ({
  ...standardRates(r.input, r.output, r.cacheRead),
  ...(r.cacheWrite === undefined ? {} : { cacheWrite: r.cacheWrite }),
});

/**
 * AGENT_MODEL_PRICES, parsed here rather than piped into a schema so each problem names the model
 * and field it is about.
 */
export function modelPrices(value: string | undefined, ctx: z.RefinementCtx): Record<string, ModelPrices> {
  if (!value) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch (err) {
    const message = `not valid JSON (${(err as Error).message}); expected e.g. ${PRICES_EXAMPLE}`;
    ctx.addIssue({ code: "custom", message });
    return {};
  }
  const parsed = z.record(z.string().min(1), configuredModel).safeParse(doc);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const where = i.path.length ? i.path.join(".") : `(top level, expected e.g. ${PRICES_EXAMPLE})`;
      ctx.addIssue({ code: "custom", message: `${where}: ${i.message}` });
    }
    return {};
  }
  return Object.fromEntries(
    Object.entries(parsed.data).map(([id, p]) => {
      const { longPrompt: long } = p;
      const tier = long ? { longPrompt: { aboveTokens: long.aboveTokens, rates: toRates(long) } } : {};
      return [id, { rates: toRates(p), ...tier }];
    }),
  );
}


/** AGENT_CONTEXT_THRESHOLD: the share of the context window the agent keeps what it sends under. */
export const contextThreshold = z.coerce
  .number({ error: "must be a number, e.g. 0.6" })
  .gt(0.1, "must be above 0.1 and at most 0.95 (a share of the model's context window; default 0.6)")
  .max(0.95, "must be above 0.1 and at most 0.95 (a share of the model's context window; default 0.6)")
  .default(0.6);

/** AGENT_CONTEXT_WINDOW: the model's context window in tokens, overriding the built-in figure. */
export const contextWindowOverride = z.coerce
  .number({ error: "must be a number of tokens, e.g. 200000" })
  .int("must be a whole number of tokens")
  .min(1000, "must be at least 1000 tokens")
  .optional();

// Anthropic's prompt cache lives 5 minutes from its last use (an hour at the longer lifetime), so
// a refresh later than that finds nothing to keep warm.
/** AGENT_CACHE_REFRESH_SECONDS: how often a long check run refreshes the prompt cache; 0 turns it off. */
export const cacheRefreshSeconds = z.coerce
  .number({ error: "must be a number of seconds, e.g. 270" })
  .int("must be a whole number of seconds")
  .min(0, "must be 0 (no refresh) or more")
  .max(3599, "must be under 3600: the longest prompt cache lives an hour, so a later refresh finds nothing to keep warm")
  .default(270);

/** The context window the agent works against: AGENT_CONTEXT_WINDOW, else the model's own; undefined when neither is known. */
export function contextWindowOf(model: string, override: number | undefined): number | undefined {
  return override ?? modelLimits(model)?.contextWindow;
}

/** The problem with a model whose context window nobody knows (a custom-priced one without AGENT_CONTEXT_WINDOW). */
export function unknownContextWindowProblem(model: string, override: number | undefined): string | undefined {
  if (contextWindowOf(model, override) !== undefined) return undefined;
  return (
    `AGENT_CONTEXT_WINDOW: required because AGENT_MODEL ${model} has no known context window (it is not in the ` +
    `built-in table); set it to the model's context window in tokens, e.g. AGENT_CONTEXT_WINDOW=200000`
  );
}
