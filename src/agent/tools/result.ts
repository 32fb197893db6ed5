/** What a client tool hands back to the agent loop; becomes a `tool_result` block. */
export interface ToolResult {
  content: string;
  isError: boolean;
}

/** A successful tool result. */
export function ok(content: string): ToolResult {
  return { content, isError: false };
}

/** A failed tool result whose message is written for the model to act on. */
export function fail(content: string): ToolResult {
  return { content, isError: true };
}
