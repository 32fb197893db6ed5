/** Request validation mirroring the Messages API's 400 invalid_request_error cases an agent loop can hit. */

type Json = Record<string, unknown>;

export interface ValidateOptions {
  /** count_tokens does not take max_tokens. */
  requireMaxTokens: boolean;
  /** Reject consecutive user/user or assistant/assistant turns (the API may merge them; the fake is strict by default). */
  strictAlternation: boolean;
}

function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function blocksOf(content: unknown): Json[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return Array.isArray(content) ? content.filter(isObj) : [];
}

function validateTools(tools: unknown): string | null {
  if (tools === undefined) return null;
  if (!Array.isArray(tools)) return "tools: Input should be a valid list";
  const names = new Set<string>();
  for (const [i, tool] of tools.entries()) {
    if (!isObj(tool)) return `tools.${i}: Input should be a valid dictionary`;
    const name = tool.name;
    if (typeof name !== "string" || !/^[a-zA-Z0-9_-]{1,128}$/.test(name)) {
      return `tools.${i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`;
    }
    if ((tool.type === undefined || tool.type === "custom") && !isObj(tool.input_schema)) {
      return `tools.${i}.custom.input_schema: Field required`;
    }
    if (names.has(name)) return "tools: Tool names must be unique.";
    names.add(name);
  }
  return null;
}

function validateToolPairing(messages: Json[]): string | null {
  for (const [i, m] of messages.entries()) {
    const blocks = blocksOf(m.content);
    if (m.role === "user") {
      const prev = messages[i - 1];
      const prevIds = new Set(
        prev?.role === "assistant"
          ? blocksOf(prev.content)
              .filter((b) => b.type === "tool_use")
              .map((b) => b.id)
          : [],
      );
      let seenOther = false;
      for (const [j, b] of blocks.entries()) {
        if (b.type !== "tool_result") {
          seenOther = true;
          continue;
        }
        if (seenOther) {
          return `messages.${i}: \`tool_result\` blocks must come first in the content, before any other block types.`;
        }
        if (!prevIds.has(b.tool_use_id)) {
          return (
            `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(b.tool_use_id)}. ` +
            "Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
          );
        }
      }
    }
    if (m.role !== "assistant") continue;
    const ids = blocks.filter((b) => b.type === "tool_use").map((b) => b.id);
    if (!ids.length) continue;
    if (ids.some((id) => typeof id !== "string" || !id))
      return `messages.${i}: tool_use blocks require an \`id\``;
    if (new Set(ids).size !== ids.length) return `messages.${i}: \`tool_use\` ids must be unique`;
    const next = messages[i + 1];
    const answered = new Set(
      next?.role === "user"
        ? blocksOf(next.content)
            .filter((b) => b.type === "tool_result")
            .map((b) => b.tool_use_id)
        : [],
    );
    const missing = ids.filter((id) => !answered.has(id));
    if (missing.length) {
      return (
        `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(", ")}. ` +
        "Each `tool_use` block must have a corresponding `tool_result` block in the next message."
      );
    }
  }
  return null;
}

// tool_choice must name an offered tool, and forcing a tool (any / tool) is refused with thinking on.
function validateToolChoice(body: Json): string | null {
  const choice = body.tool_choice;
  if (choice === undefined) return null;
  if (!isObj(choice) || !["auto", "any", "tool", "none"].includes(String(choice.type))) {
    return "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', 'tool', 'none'";
  }
  const names = Array.isArray(body.tools) ? body.tools.filter(isObj).map((t) => t.name) : [];
  if (choice.type === "tool" && (typeof choice.name !== "string" || !names.includes(choice.name))) {
    return `tool_choice.name: tool ${String(choice.name)} is not in the request's tools`;
  }
  const thinking = isObj(body.thinking) ? body.thinking.type : undefined;
  if ((choice.type === "tool" || choice.type === "any") && (thinking === "enabled" || thinking === "adaptive")) {
    return "Thinking may not be enabled when tool_choice forces tool use.";
  }
  return null;
}

/** Returns the API's error message for an invalid request, or null when the request is acceptable. */
export function validateRequest(body: unknown, opts: ValidateOptions): string | null {
  if (!isObj(body)) return "Input should be a valid dictionary";
  if (typeof body.model !== "string" || !body.model) return "model: Field required";
  if (opts.requireMaxTokens) {
    if (body.max_tokens === undefined) return "max_tokens: Field required";
    if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 0) {
      return "max_tokens: Input should be a valid integer greater than or equal to 0";
    }
  }
  if (!Array.isArray(body.messages)) return "messages: Field required";
  if (body.messages.length === 0) return "messages: at least one message is required";
  if (body.system !== undefined && typeof body.system !== "string" && !Array.isArray(body.system)) {
    return "system: Input should be a valid string or list";
  }
  const toolsError = validateTools(body.tools);
  if (toolsError) return toolsError;
  const choiceError = validateToolChoice(body);
  if (choiceError) return choiceError;

  const turns: Json[] = [];
  for (const [i, m] of body.messages.entries()) {
    if (!isObj(m)) return `messages.${i}: Input should be a valid dictionary`;
    if (m.role !== "user" && m.role !== "assistant" && m.role !== "system") {
      return `messages.${i}.role: Input should be 'user', 'assistant' or 'system'`;
    }
    if (typeof m.content !== "string" && !Array.isArray(m.content))
      return `messages.${i}.content: Field required`;
    const isFinalAssistant = m.role === "assistant" && i === body.messages.length - 1;
    if (!isFinalAssistant && (m.content === "" || (Array.isArray(m.content) && m.content.length === 0))) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    }
    for (const [j, b] of blocksOf(m.content).entries()) {
      if (typeof b.type !== "string") return `messages.${i}.content.${j}.type: Field required`;
      if (b.type === "text" && (typeof b.text !== "string" || (b.text === "" && Array.isArray(m.content)))) {
        return `messages.${i}.content.${j}.text: text content blocks must be non-empty`;
      }
      if (b.type === "tool_use" && m.role !== "assistant")
        return `messages.${i}.content.${j}: tool_use blocks are only allowed in assistant messages`;
      if (b.type === "tool_result" && m.role !== "user")
        return `messages.${i}.content.${j}: tool_result blocks are only allowed in user messages`;
    }
    if (m.role !== "system") turns.push(m);
  }
  if (turns[0]?.role !== "user") return 'messages: first message must use the "user" role';
  if (opts.strictAlternation) {
    for (let i = 1; i < turns.length; i++) {
      const role = turns[i]?.role;
      if (role === turns[i - 1]?.role) {
        return `messages: roles must alternate between "user" and "assistant", but found multiple "${String(role)}" roles in a row`;
      }
    }
  }
  return validateToolPairing(body.messages as Json[]);
}
