// Turns a repository's `thinking` and `effort` settings (routing file) into the Messages API
// parameters for a model, refusing what that model would answer with a 400 so the operator hears
// it at start-up (or from `doctor`) instead of from every agent run.
import type { OutputConfig, ThinkingConfigParam } from "@anthropic-ai/sdk/resources/messages/messages.js";
import { EFFORTS, type Effort, type ThinkingMode, type ThinkingSupport, thinkingSupport } from "./models.js";

export { EFFORTS, type Effort } from "./models.js";

/** A thinking setting of the routing file: a mode, or a manual budget of thinking tokens. */
export type ThinkingSetting = "adaptive" | "between-tools" | "off" | number;

/** The routing file's thinking words, in the order the error messages list them. */
export const THINKING_WORDS = ["adaptive", "between-tools", "off"] as const;

/** The API's floor for `budget_tokens`. */
export const MIN_THINKING_BUDGET = 1024;

/** What a repository asks of the model; undefined fields leave the model's default. */
export interface ThinkingSettings {
  thinking?: ThinkingSetting | undefined;
  effort?: Effort | undefined;
}

/** The request parameters to add to a Messages call (absent keys: send nothing, the model's default). */
export interface ThinkingParams {
  thinking?: ThinkingConfigParam;
  output_config?: Pick<OutputConfig, "effort">;
}

/** Raised for a thinking or effort setting the model refuses. */
export class ThinkingSettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ThinkingSettingError";
  }
}

const asked = (s: ThinkingSetting) => (typeof s === "number" ? `a thinking budget (${s} tokens)` : `thinking: ${s}`);

function toParam(setting: ThinkingSetting): ThinkingConfigParam {
  if (typeof setting === "number") return { type: "enabled", budget_tokens: setting };
  if (setting === "adaptive") return { type: "adaptive" };
  if (setting === "between-tools") return { type: "between_tools" };
  return { type: "disabled" };
}

const WORD: Record<ThinkingMode, string> = {
  adaptive: "adaptive",
  between_tools: "between-tools",
  disabled: "off",
  enabled: "a budget of thinking tokens",
};

/**
 * The Messages API parameters for a repository's settings on `model`. Throws ThinkingSettingError
 * for a combination the model refuses (a budget on a 5.x model, `off` on an always-thinking one,
 * an effort level it lacks, a budget not under `maxTokens`). A model the table does not know
 * (priced through AGENT_MODEL_PRICES) gets the settings as asked: the API is the judge there.
 */
export function requestThinking(settings: ThinkingSettings, model: string, maxTokens?: number): ThinkingParams {
  const support = thinkingSupport(model);
  const params: ThinkingParams = {};
  const thinking = settings.thinking === undefined ? undefined : thinkingParam(settings.thinking, model, support, maxTokens);
  if (thinking) params.thinking = thinking;
  const { effort } = settings;
  if (effort === undefined) return params;
  if (support && !support.efforts.includes(effort)) {
    throw new ThinkingSettingError(
      support.efforts.length
        ? `${model} does not accept effort ${effort}; it accepts ${support.efforts.join(", ")}`
        : `${model} takes no effort parameter; leave effort unset`,
    );
  }
  const ceiling = support?.disabledUpToEffort;
  if (ceiling && thinking?.type === "disabled" && EFFORTS.indexOf(effort) > EFFORTS.indexOf(ceiling)) {
    throw new ThinkingSettingError(`${model} accepts thinking: off only up to effort ${ceiling}, not ${effort}`);
  }
  return { ...params, output_config: { effort } };
}

// The `thinking` parameter for a setting, or undefined when the model needs none to honour it.
function thinkingParam(
  setting: ThinkingSetting,
  model: string,
  support: ThinkingSupport | undefined,
  maxTokens: number | undefined,
): ThinkingConfigParam | undefined {
  if (typeof setting === "number") checkBudget(setting, maxTokens);
  const param = toParam(setting);
  if (!support || support.modes.includes(param.type)) return param;
  // A model that cannot think already does not: asking it not to is no error, and no parameter.
  if (param.type === "disabled" && support.modes.length === 0) return undefined;
  const accepted = support.modes.map((m) => WORD[m]).join(", ");
  throw new ThinkingSettingError(
    `${model} does not accept ${asked(setting)}; ` +
      (accepted ? `it accepts ${accepted} (or leave thinking unset for its default)` : "it cannot think; leave thinking unset"),
  );
}

function checkBudget(budget: number, maxTokens: number | undefined): void {
  if (!Number.isInteger(budget) || budget < MIN_THINKING_BUDGET) {
    throw new ThinkingSettingError(`a thinking budget must be a whole number of at least ${MIN_THINKING_BUDGET} tokens, not ${budget}`);
  }
  if (maxTokens !== undefined && budget >= maxTokens) {
    throw new ThinkingSettingError(
      `a thinking budget (${budget} tokens) must be less than AGENT_MAX_TOKENS (${maxTokens}): thinking counts toward it`,
    );
  }
}
