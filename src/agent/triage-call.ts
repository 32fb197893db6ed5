import type Anthropic from "@anthropic-ai/sdk";
import type { Usage } from "../tasks/task.js";
import { refusalDetail, usageOf } from "./anthropic-messages.js";
import { modelLimits, thinkingSupport } from "./models.js";
import type { Pricing } from "./pricing.js";

// One short, non-streaming Messages call whose answer is the input of one tool the model must
// call: how triage and the manager get a verdict or a plan as JSON instead of prose to parse.

/** A tool whose input is the answer, and the call's instructions and data. */
export interface ForcedToolRequest {
  anthropic: Anthropic;
  model: string;
  pricing: Pricing;
  tool: { name: string; description: string; input_schema: Anthropic.Messages.Tool.InputSchema };
  /** Instructions first, then the repository's stable context: the last block carries the cache breakpoint. */
  system: string[];
  /** The per-call part (the issue, answers, a previous plan). */
  user: string;
  maxTokens: number;
  /** Who is asking, for error messages ("triage", "the manager"). */
  purpose: string;
  signal?: AbortSignal;
}

/**
 * A call that was answered (and paid for) but whose answer cannot be used: refused, no tool call,
 * nothing readable in the tool's input. It carries the call's cost for the caller to book; unlike
 * an API error, retrying would most likely pay for the same unusable answer again.
 */
export class PaidAnswerError extends Error {
  readonly usage: Usage;
  readonly costUsd: number;
  constructor(message: string, paid: { usage: Usage; costUsd: number }, options?: ErrorOptions) {
    super(message, options);
    this.name = "PaidAnswerError";
    this.usage = paid.usage;
    this.costUsd = paid.costUsd;
  }
}

/** The tool's raw input (to validate), and what the call cost. */
export interface ForcedToolAnswer {
  input: unknown;
  /** The reply hit max_tokens: the input may be cut short. */
  cutOff: boolean;
  usage: Usage;
  costUsd: number;
}

/**
 * Forced tool use (`tool_choice: {type: "tool"}`) is refused together with thinking, so thinking
 * is switched off where the model allows it; a model that always thinks gets `auto` with the one
 * tool offered and the instruction to call it.
 */
function choiceFor(model: string, tool: string): Pick<Anthropic.Messages.MessageCreateParamsNonStreaming, "tool_choice" | "thinking"> {
  const support = thinkingSupport(model);
  if (!support || support.modes.length === 0) return { tool_choice: { type: "tool", name: tool } };
  if (support.modes.includes("disabled")) return { tool_choice: { type: "tool", name: tool }, thinking: { type: "disabled" } };
  return { tool_choice: { type: "auto" } };
}

/** Sends one request forcing `tool` and returns its input; API errors propagate (the job retries), an unusable answer throws PaidAnswerError. */
export async function callForcedTool(p: ForcedToolRequest): Promise<ForcedToolAnswer> {
  const system: Anthropic.Messages.TextBlockParam[] = p.system.map((text, i) =>
    i === p.system.length - 1 ? { type: "text", text, cache_control: { type: "ephemeral" } } : { type: "text", text },
  );
  const maxOutput = modelLimits(p.model)?.maxOutput ?? p.maxTokens;
  const message = await p.anthropic.messages.create(
    {
      model: p.model,
      max_tokens: Math.min(p.maxTokens, maxOutput),
      tools: [p.tool],
      ...choiceFor(p.model, p.tool.name),
      system,
      messages: [{ role: "user", content: p.user }],
    },
    { signal: p.signal },
  );
  const usage = usageOf(message.usage);
  const costUsd = p.pricing.costOf(p.model, usage);
  const call = message.content.find(
    (b): b is Anthropic.Messages.ToolUseBlock => b.type === "tool_use" && b.name === p.tool.name,
  );
  if (message.stop_reason === "refusal" || !call) {
    const why =
      message.stop_reason === "refusal"
        ? `declined (${refusalDetail(message.stop_details) ?? "no reason given"})`
        : `answered without calling ${p.tool.name} (stop reason ${message.stop_reason ?? "none"})`;
    throw new PaidAnswerError(
      `${p.purpose} model ${p.model} ${why}: check that the model supports tool use and that the issue's text is work it may do; ` +
        `the call cost $${costUsd.toFixed(4)}`,
      { usage, costUsd },
    );
  }
  return { input: call.input, cutOff: message.stop_reason === "max_tokens", usage, costUsd };
}
