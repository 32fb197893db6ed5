import type { ScriptedTurn } from "../fakes/anthropic/index.js";

// Scripted model turns for the Anthropic fake, in the shapes the agent's tools expect.

/** A text-editor tool call (view, create, str_replace, insert). */
export const edit = (input: Record<string, unknown>): ScriptedTurn => ({
  content: [{ type: "tool_use", name: "str_replace_based_edit_tool", input }],
});

/** A text-editor call that writes a whole file. */
export const create = (path: string, text: string): ScriptedTurn => edit({ command: "create", path, file_text: text });

/** A bash tool call. */
export const bash = (command: string): ScriptedTurn => ({ content: [{ type: "tool_use", name: "bash", input: { command } }] });

/** A final text turn (the agent's report). */
export const say = (text: string): ScriptedTurn => ({ content: [{ type: "text", text }] });
