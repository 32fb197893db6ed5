import { realpath, stat } from "node:fs/promises";
import { createFile, insertIntoFile, replaceInFile } from "./editor-edit.js";
import { viewPath } from "./editor-view.js";
import { displayPath, PathEscapeError, REPO_ALIAS, repoRelative, resolveInside } from "./paths.js";
import { fail, type ToolResult } from "./result.js";

export type { ToolResult } from "./result.js";

/** Client-side implementation of Anthropic's `text_editor_20250728` tool, confined to one repository. */
export interface EditorTool {
  definition: { type: "text_editor_20250728"; name: "str_replace_based_edit_tool"; max_characters?: number };
  run(input: unknown): Promise<ToolResult>;
  /** repo-relative paths this tool created or modified, for the job summary */
  touched(): string[];
}

// Used when the caller sets no limit, so one `view` of a huge file cannot flood the context window.
const DEFAULT_MAX_CHARACTERS = 50_000;
const COMMANDS = ["view", "create", "str_replace", "insert"] as const;

type Input = Record<string, unknown>;

/**
 * Creates the editor tool; every path it touches is confined to `root`: resolveInside checks the
 * request, and editor-fs opens it without following symlinks and proves the opened descriptor is
 * inside, since the agent's background processes can swap paths between the check and the use.
 */
export function createEditorTool(opts: { root: string; maxCharacters?: number }): EditorTool {
  const maxCharacters = opts.maxCharacters ?? DEFAULT_MAX_CHARACTERS;
  const touched = new Set<string>();
  let rootReal: Promise<string> | undefined;

  async function dispatch(input: Input, command: string, requested: string): Promise<ToolResult> {
    rootReal ??= realpath(opts.root);
    const base = await rootReal;
    const target = await resolveInside(opts.root, requested);
    const shown = displayPath(base, target);
    const exists = await stat(target).then(
      () => true,
      () => false,
    );
    if (!exists && command !== "create") {
      return fail(`The path ${shown} does not exist. Please provide a valid path.`);
    }
    let result: ToolResult;
    switch (command) {
      case "view":
        return viewPath(base, target, input.view_range, maxCharacters);
      case "create": {
        if (typeof input.file_text !== "string") return missing("file_text", command);
        result = await createFile(base, target, shown, input.file_text);
        break;
      }
      case "str_replace": {
        if (typeof input.old_str !== "string" || input.old_str === "") return missing("old_str", command);
        const newStr = input.new_str ?? "";
        if (typeof newStr !== "string") return fail("Parameter `new_str` must be a string.");
        result = await replaceInFile(base, target, shown, input.old_str, newStr);
        break;
      }
      case "insert": {
        const line = toInteger(input.insert_line);
        if (line === undefined)
          return missing("insert_line", command, "a line number; 0 inserts at the beginning");
        // Older tool versions called this field insert_text; models trained on them still send it.
        const newStr = input.new_str ?? input.insert_text;
        if (typeof newStr !== "string") return missing("new_str", command);
        result = await insertIntoFile(base, target, shown, line, newStr);
        break;
      }
      default:
        return fail(`Unrecognized command ${command}.`);
    }
    if (!result.isError) touched.add(repoRelative(base, target));
    return result;
  }

  return {
    definition: {
      type: "text_editor_20250728",
      name: "str_replace_based_edit_tool",
      max_characters: maxCharacters,
    },
    async run(input) {
      if (typeof input !== "object" || input === null || Array.isArray(input)) {
        return fail("The tool input must be an object with `command` and `path`.");
      }
      const fields = input as Input;
      const { command, path: requested } = fields;
      if (command === "undo_edit") {
        return fail(
          "The undo_edit command is not supported by this tool version (text_editor_20250728). To revert a change, use str_replace to restore the previous text.",
        );
      }
      if (typeof command !== "string" || !(COMMANDS as readonly string[]).includes(command)) {
        return fail(
          `Unrecognized command ${JSON.stringify(command)}. The allowed commands for the str_replace_based_edit_tool tool are: ${COMMANDS.join(", ")}`,
        );
      }
      if (typeof requested !== "string" || requested === "") return missing("path", command);
      try {
        return await dispatch(fields, command, requested);
      } catch (err) {
        if (err instanceof PathEscapeError) return fail(err.message);
        return fail(`The ${command} command failed on ${requested}: ${await hideRoot(err, rootReal)}`);
      }
    },
    touched: () => [...touched],
  };
}

function missing(param: string, command: string, hint?: string): ToolResult {
  return fail(`Parameter \`${param}\` is required for command: ${command}${hint ? ` (${hint})` : ""}.`);
}

function toInteger(value: unknown): number | undefined {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) ? n : undefined;
}

// The model only knows the repository as /repo, so host paths in fs errors would mislead it.
async function hideRoot(err: unknown, rootReal: Promise<string> | undefined): Promise<string> {
  const message = err instanceof Error ? err.message : String(err);
  const base = await rootReal?.catch(() => undefined);
  return base ? message.split(base).join(REPO_ALIAS) : message;
}
