import type { FileHandle } from "node:fs/promises";

/** Largest file the editor will load; bigger files are better explored with grep/head in bash. */
export const MAX_FILE_BYTES = 2 * 1024 * 1024;

/** Lines shown on either side of an edit, as in Anthropic's reference editor. */
export const SNIPPET_LINES = 4;

/** A file's text split into lines, remembering whether it ended with a newline. */
export interface TextLines {
  lines: string[];
  trailingNewline: boolean;
}

/** The error for a text command (not `view`) aimed at a directory. */
export function directoryError(shown: string): string {
  return `The path ${shown} is a directory; only the \`view\` command can be used on directories.`;
}

/**
 * Reads a UTF-8 text file through a descriptor openInside proved to be inside the repository (a
 * path could be swapped for a symlink after the check), or returns a model-readable reason it
 * cannot be edited as text.
 */
export async function readTextFile(file: FileHandle, shown: string): Promise<string | { error: string }> {
  const info = await file.stat();
  if (info.isDirectory()) return { error: directoryError(shown) };
  if (!info.isFile()) {
    return { error: `The path ${shown} is not a regular file (a FIFO, socket or device); it cannot be edited as text.` };
  }
  if (info.size > MAX_FILE_BYTES) {
    return {
      error: `The file ${shown} is ${info.size} bytes, over the ${MAX_FILE_BYTES}-byte limit; use bash (grep -n, head, sed -n) to inspect it.`,
    };
  }
  const buffer = await file.readFile();
  if (buffer.includes(0)) {
    return {
      error: `The file ${shown} appears to be binary (it contains NUL bytes) and cannot be shown as text.`,
    };
  }
  return buffer.toString("utf8");
}

/** Splits text into lines; a final newline ends the last line rather than starting an empty one. */
export function splitLines(text: string): TextLines {
  if (text === "") return { lines: [], trailingNewline: true };
  const trailingNewline = text.endsWith("\n");
  const lines = (trailingNewline ? text.slice(0, -1) : text).split("\n");
  return { lines, trailingNewline };
}

/** Inverse of splitLines. */
export function joinLines({ lines, trailingNewline }: TextLines): string {
  if (lines.length === 0) return "";
  return lines.join("\n") + (trailingNewline ? "\n" : "");
}

/** Formats lines like `cat -n`: the number right-aligned to six columns, a tab, then the line. */
export function numberLines(lines: string[], firstLine: number): string {
  return lines
    .map((line, i) => `${String(i + firstLine).padStart(6)}\t${line.replace(/\r$/, "")}`)
    .join("\n");
}

/** Numbers lines but stops before maxCharacters, adding a note on how to see the rest. */
export function numberLinesCapped(lines: string[], firstLine: number, maxCharacters: number): string {
  const out: string[] = [];
  let used = 0;
  for (const [i, line] of lines.entries()) {
    const rendered = numberLines([line], firstLine + i);
    if (used + rendered.length + 1 > maxCharacters) {
      // A single huge line (minified code) still deserves a partial look.
      if (out.length === 0) out.push(`${rendered.slice(0, maxCharacters)} [line truncated]`);
      const lastShown = firstLine + Math.max(out.length, 1) - 1;
      const lastLine = firstLine + lines.length - 1;
      out.push(
        `<response clipped: showing lines ${firstLine}-${lastShown} of ${firstLine}-${lastLine} because of the ${maxCharacters}-character limit. Use view_range, or grep -n in bash, to see the rest.>`,
      );
      return out.join("\n");
    }
    out.push(rendered);
    used += rendered.length + 1;
  }
  return out.join("\n");
}

/** The 1-based line number on which a character offset falls. */
export function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/** A numbered excerpt of the file around lines [from, to] (1-based, inclusive), with context. */
export function snippetAround(text: string, from: number, to: number): string {
  const { lines } = splitLines(text);
  const start = Math.max(1, from - SNIPPET_LINES);
  const end = Math.min(lines.length, to + SNIPPET_LINES);
  return numberLines(lines.slice(start - 1, end), start);
}
