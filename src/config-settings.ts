// Parsers for the structured settings of src/config.ts (which alone reads the environment):
// the sandbox's allowlist, configured model prices, the agent's context settings, secrets read
// from files and the GitHub App's settings.
import { createPrivateKey } from "node:crypto";
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

/**
 * Secrets that may also come from a file named by `<NAME>_FILE`, as Docker and Kubernetes mount
 * secrets. Only these: a setting that is no secret has no reason to live in a file.
 */
export const FILE_SECRETS = [
  "GITHUB_TOKEN",
  "GITHUB_WEBHOOK_SECRET",
  "GITHUB_APP_PRIVATE_KEY",
  "LINEAR_API_KEY",
  "LINEAR_WEBHOOK_SECRET",
  "LINEAR_CLIENT_SECRET",
  "TOKEN_ENCRYPTION_KEY",
  "ANTHROPIC_API_KEY",
  "ADMIN_TOKEN",
] as const;

type RawEnv = Record<string, string | undefined>;

/**
 * The environment with every `<NAME>_FILE` secret read into `<NAME>` (trailing newlines dropped),
 * and what stopped a file from being used. `read` is the caller's (config.ts reads the files).
 * Problems name the variable and the path, never what the file holds.
 */
export function secretsFromFiles(env: RawEnv, read: (path: string) => string): { env: RawEnv; problems: string[] } {
  const out: RawEnv = { ...env };
  const problems: string[] = [];
  for (const name of FILE_SECRETS) {
    const fileVar = `${name}_FILE`;
    const file = env[fileVar]?.trim();
    if (!file) continue;
    if (env[name]?.trim()) {
      problems.push(`${name} and ${fileVar} are both set: keep one (the value itself, or the path of a file holding it)`);
      continue;
    }
    let text: string;
    try {
      text = read(file);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      problems.push(`${fileVar}: cannot read ${file} (${why}): mount the secret there or fix the path`);
      continue;
    }
    const value = text.replace(/[\r\n]+$/, "");
    if (!value.trim()) {
      problems.push(`${fileVar}: ${file} is empty: put the ${name} value in it`);
      continue;
    }
    out[name] = value;
  }
  return { env: out, problems };
}

const APP_KEY_HELP =
  "paste the .pem file GitHub generated (the App's settings → Private keys → Generate a private key), " +
  "or set GITHUB_APP_PRIVATE_KEY_FILE to its path";

/**
 * GITHUB_APP_PRIVATE_KEY: the App's PEM private key. Environment files often carry it on one
 * line with `\n` escapes, so those become newlines; a value that is no RSA private key is refused
 * here, at start-up, rather than at the first JWT.
 */
export const githubAppPrivateKey = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const text = v?.trim();
    if (!text) return undefined;
    const pem = text.includes("\n") ? text : text.replace(/\\r\\n|\\n/g, "\n");
    if (!pem.includes("-----BEGIN")) {
      ctx.addIssue({ code: "custom", message: `not a PEM private key (no -----BEGIN line): ${APP_KEY_HELP}` });
      return undefined;
    }
    try {
      const key = createPrivateKey(pem);
      if (key.asymmetricKeyType !== "rsa") {
        ctx.addIssue({ code: "custom", message: `is a ${key.asymmetricKeyType ?? "non-RSA"} key, but GitHub Apps sign with RSA keys: ${APP_KEY_HELP}` });
        return undefined;
      }
    } catch (err) {
      ctx.addIssue({ code: "custom", message: `not a usable PEM private key (${(err as Error).message.split("\n")[0]}): ${APP_KEY_HELP}` });
      return undefined;
    }
    return `${pem}\n`;
  });

/** GITHUB_APP_ID: the App's numeric id (or its client id, which GitHub accepts in the JWT too). */
export const githubAppId = z
  .string()
  .trim()
  .optional()
  .transform((v) => v || undefined)
  .refine((v) => v === undefined || /^\d+$/.test(v) || /^Iv[0-9A-Za-z.]+$/.test(v), {
    message: "must be the App's id, a number shown as \"App ID\" on the App's settings page (or its client id, Iv…)",
  });

const setIn = (env: RawEnv, name: string) => Boolean(env[name]?.trim());

/** What is wrong with how GitHub is reached: an App half configured, or an App and a token both. */
export function githubAuthProblems(env: RawEnv): string[] {
  const id = setIn(env, "GITHUB_APP_ID");
  const key = setIn(env, "GITHUB_APP_PRIVATE_KEY");
  const problems: string[] = [];
  if (id && !key) problems.push("GITHUB_APP_PRIVATE_KEY (or GITHUB_APP_PRIVATE_KEY_FILE) is required with GITHUB_APP_ID: the App's private key, to sign its JWTs");
  if (key && !id) problems.push("GITHUB_APP_ID is required with GITHUB_APP_PRIVATE_KEY: the id shown as \"App ID\" on the App's settings page");
  if ((id || key) && setIn(env, "GITHUB_TOKEN")) {
    problems.push(
      "GITHUB_TOKEN and the GitHub App (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY) are both set: the service acts either as the App (recommended) or as the token's user; unset one of them",
    );
  }
  return problems;
}
