export { type BashTool, type BashToolOptions, createBashTool } from "./bash.js";
export { createEditorTool, type EditorTool } from "./editor.js";
export { capOutput } from "./output-cap.js";
export { displayPath, PathEscapeError, REPO_ALIAS, repoRelative, resolveInside } from "./paths.js";
export type { ToolResult } from "./result.js";
