// What each model the service accepts can take: its context window, its output limit, and the
// thinking and effort settings the Messages API accepts for it. From Anthropic's model pages
// (platform.claude.com/docs/en/models/<model>/overview), the adaptive-thinking, extended-thinking
// and effort guides, and each model's "what's new" page. Keys are the ids of the price table
// (pricing.ts); a dated snapshot (`-20251001`) or `-latest` of an id has that id's entry.

/** Token limits of one model. */
export interface ModelLimits {
  /** Input and output of one request together (the API refuses a prompt that leaves no room). */
  contextWindow: number;
  /** The most `max_tokens` may ask for (thinking tokens count toward it). */
  maxOutput: number;
}

/** How a request may ask a model to think (the Messages API's `thinking.type`). */
export type ThinkingMode = "adaptive" | "between_tools" | "disabled" | "enabled";

/** Values of `output_config.effort`, lowest first. */
export const EFFORTS = ["low", "medium", "high", "xhigh", "max"] as const;
/** One `output_config.effort` level. */
export type Effort = (typeof EFFORTS)[number];

/** The thinking and effort settings a model accepts; anything else is answered with a 400. */
export interface ThinkingSupport {
  /** Accepted `thinking.type` values; `enabled` means a manual `budget_tokens`. Empty: no thinking at all. */
  modes: readonly ThinkingMode[];
  /** Accepted `output_config.effort` levels; empty when the model takes no effort parameter. */
  efforts: readonly Effort[];
  /** Where disabling thinking is accepted only up to an effort level (Opus 5, Haiku 5.5: `high`). */
  disabledUpToEffort?: Effort;
}

const K = 1000;
const M = 1_000_000;
const limits = (contextWindow: number, maxOutput: number): ModelLimits => ({ contextWindow, maxOutput });

// The 5.x generation and the 4.6+ models have a 1M window by default; older ones 200K (Sonnet 4
// and 4.5 offered 1M only as a beta with a header the service does not send).
const LIMITS: Readonly<Record<string, ModelLimits>> = {
  "claude-fable-5-2": limits(M, 128 * K),
  "claude-mythos-5-2": limits(M, 128 * K),
  "claude-fable-5-1": limits(M, 128 * K),
  "claude-mythos-5-1": limits(M, 128 * K),
  "claude-fable-5": limits(M, 128 * K),
  "claude-mythos-5": limits(M, 128 * K),
  "claude-opus-5-5": limits(M, 128 * K),
  "claude-opus-5": limits(M, 128 * K),
  "claude-opus-4-8": limits(M, 128 * K),
  "claude-opus-4-7": limits(M, 128 * K),
  "claude-opus-4-6": limits(M, 128 * K),
  "claude-opus-4-5": limits(200 * K, 64 * K),
  "claude-opus-4-1": limits(200 * K, 32 * K),
  "claude-opus-4": limits(200 * K, 32 * K),
  "claude-opus-4-0": limits(200 * K, 32 * K),
  "claude-3-opus": limits(200 * K, 4096),
  "claude-sonnet-5-5": limits(M, 128 * K),
  "claude-sonnet-5": limits(M, 128 * K),
  "claude-sonnet-4-6": limits(M, 128 * K),
  "claude-sonnet-4-5": limits(200 * K, 64 * K),
  "claude-sonnet-4": limits(200 * K, 64 * K),
  "claude-sonnet-4-0": limits(200 * K, 64 * K),
  "claude-3-7-sonnet": limits(200 * K, 64 * K),
  "claude-3-5-sonnet": limits(200 * K, 8192),
  "claude-haiku-5-5": limits(M, 128 * K),
  "claude-haiku-4-5": limits(200 * K, 64 * K),
  "claude-3-5-haiku": limits(200 * K, 8192),
  "claude-3-haiku": limits(200 * K, 4096),
};

const ALL_EFFORTS: readonly Effort[] = EFFORTS;
const NO_XHIGH: readonly Effort[] = ["low", "medium", "high", "max"];
const support = (modes: ThinkingMode[], efforts: readonly Effort[] = [], disabledUpToEffort?: Effort): ThinkingSupport =>
  disabledUpToEffort ? { modes, efforts, disabledUpToEffort } : { modes, efforts };

// Fable, Mythos and Opus 5.5 always think (disabled and budgets are refused); the rest of the 5.x
// generation and Opus 4.7/4.8 refuse manual budgets; Sonnet 5.5 replaced `disabled` with
// `between_tools`; Opus 4.6 and Sonnet 4.6 still take (deprecated) budgets; Opus 4.5 is the only
// older model with effort (no xhigh or max); the 3.5 and 3 models cannot think.
const ALWAYS_ADAPTIVE = support(["adaptive"], ALL_EFFORTS);
const MANUAL_ONLY = support(["enabled", "disabled"]);
const THINKING: Readonly<Record<string, ThinkingSupport>> = {
  "claude-fable-5-2": ALWAYS_ADAPTIVE,
  "claude-mythos-5-2": ALWAYS_ADAPTIVE,
  "claude-fable-5-1": ALWAYS_ADAPTIVE,
  "claude-mythos-5-1": ALWAYS_ADAPTIVE,
  "claude-fable-5": ALWAYS_ADAPTIVE,
  "claude-mythos-5": ALWAYS_ADAPTIVE,
  "claude-opus-5-5": ALWAYS_ADAPTIVE,
  "claude-opus-5": support(["adaptive", "disabled"], ALL_EFFORTS, "high"),
  "claude-opus-4-8": support(["adaptive", "disabled"], ALL_EFFORTS),
  "claude-opus-4-7": support(["adaptive", "disabled"], ALL_EFFORTS),
  "claude-opus-4-6": support(["adaptive", "enabled", "disabled"], NO_XHIGH),
  "claude-opus-4-5": support(["enabled", "disabled"], ["low", "medium", "high"]),
  "claude-opus-4-1": MANUAL_ONLY,
  "claude-opus-4": MANUAL_ONLY,
  "claude-opus-4-0": MANUAL_ONLY,
  "claude-3-opus": support([]),
  "claude-sonnet-5-5": support(["adaptive", "between_tools"], ALL_EFFORTS),
  "claude-sonnet-5": support(["adaptive", "disabled"], ALL_EFFORTS),
  "claude-sonnet-4-6": support(["adaptive", "enabled", "disabled"], NO_XHIGH),
  "claude-sonnet-4-5": MANUAL_ONLY,
  "claude-sonnet-4": MANUAL_ONLY,
  "claude-sonnet-4-0": MANUAL_ONLY,
  "claude-3-7-sonnet": MANUAL_ONLY,
  "claude-3-5-sonnet": support([]),
  "claude-haiku-5-5": support(["adaptive", "disabled"], ALL_EFFORTS, "high"),
  "claude-haiku-4-5": MANUAL_ONLY,
  "claude-3-5-haiku": support([]),
  "claude-3-haiku": support([]),
};

const SNAPSHOT = /-(\d{8}|latest)$/;

/** The id a dated snapshot or `-latest` alias belongs to (`claude-haiku-4-5-20251001` → `claude-haiku-4-5`). */
export function baseModelId(model: string): string {
  return model.replace(SNAPSHOT, "");
}

function lookup<T>(table: Readonly<Record<string, T>>, model: string): T | undefined {
  if (Object.hasOwn(table, model)) return table[model];
  const base = baseModelId(model);
  return Object.hasOwn(table, base) ? table[base] : undefined;
}

/**
 * A model's context window and output limit, `overrides` (e.g. AGENT_CONTEXT_WINDOW) winning;
 * undefined when neither the table nor the overrides give both.
 */
export function modelLimits(model: string, overrides: Partial<ModelLimits> = {}): ModelLimits | undefined {
  const known = lookup(LIMITS, model);
  const contextWindow = overrides.contextWindow ?? known?.contextWindow;
  const maxOutput = overrides.maxOutput ?? known?.maxOutput;
  return contextWindow !== undefined && maxOutput !== undefined ? { contextWindow, maxOutput } : undefined;
}

/** The thinking and effort settings a model accepts, or undefined for a model the table does not know. */
export function thinkingSupport(model: string): ThinkingSupport | undefined {
  return lookup(THINKING, model);
}
