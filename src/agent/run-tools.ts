import type Anthropic from "@anthropic-ai/sdk";
import { commandStop } from "./checks.js";
import type { createBashTool, createEditorTool, ToolResult } from "./tools/index.js";

type ToolResultBlock = Anthropic.Messages.ToolResultBlockParam;

/** The session's tools and the signals that stop them. */
export interface ToolSet {
  editor: ReturnType<typeof createEditorTool>;
  bash: ReturnType<typeof createBashTool>;
  /** A stop: nothing more runs. */
  signal: AbortSignal;
  /** A worker shutdown: a running command gets a short grace, later ones do not start. */
  drain?: AbortSignal;
}

const DRAINED =
  "Interrupted: the worker is shutting down, so this command was killed (or not started); the work resumes in a new session.";

/** Runs one turn's tool calls in order and answers every one of them, run or not. */
export async function runTools(calls: Anthropic.Messages.ToolUseBlock[], t: ToolSet): Promise<ToolResultBlock[]> {
  const results: ToolResultBlock[] = [];
  // Set once a worker shutdown killed a command of this turn: the turn's later commands are
  // not started, so the drain waits for one grace period at most.
  let drained = false;
  for (const call of calls) {
    let r: ToolResult;
    // Every call gets a result, even one not run, so each tool_use stays answered.
    if (t.signal.aborted) r = { content: "The run was stopped.", isError: true };
    else if (call.name === "str_replace_based_edit_tool") r = await t.editor.run(call.input);
    else if (call.name === "bash" && drained) r = { content: DRAINED, isError: true };
    else if (call.name === "bash") {
      // A command may run for minutes (its timeout), so a worker shutdown kills it after a
      // short grace instead of waiting for it as it waits for a model call.
      const stop = commandStop(t.signal, t.drain);
      try {
        r = await t.bash.run(call.input, stop.signal);
      } finally {
        stop.dispose();
      }
      if (stop.signal.aborted && !t.signal.aborted) {
        drained = true;
        r = { content: DRAINED, isError: true };
      }
    } else r = { content: `Unknown tool "${call.name}".`, isError: true };
    results.push({
      type: "tool_result",
      tool_use_id: call.id,
      content: r.content || "(no output)",
      ...(r.isError ? { is_error: true } : {}),
    });
  }
  return results;
}
