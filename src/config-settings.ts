// Parsers for the structured settings of src/config.ts (which alone reads the environment):
// the sandbox's allowlist and configured model prices.
import { z } from "zod";
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

