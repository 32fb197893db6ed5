import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  joinLines,
  lineOfOffset,
  numberLines,
  readTextFile,
  SNIPPET_LINES,
  snippetAround,
  splitLines,
} from "./editor-text.js";
import { fail, ok, type ToolResult } from "./result.js";

const REVIEW = "Review the changes and make sure they are as expected. Edit the file again if necessary.";

/** Implements `create`: writes file_text, creating parent directories and overwriting any existing file. */
export async function createFile(target: string, shown: string, fileText: string): Promise<ToolResult> {
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isDirectory()) return fail(`The path ${shown} is a directory; cannot create a file there.`);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, fileText);
  return ok(
    existing ? `File overwritten successfully at: ${shown}` : `File created successfully at: ${shown}`,
  );
}

/** Implements `str_replace`: replaces the single verbatim occurrence of oldStr with newStr. */
export async function replaceInFile(
  target: string,
  shown: string,
  oldStr: string,
  newStr: string,
): Promise<ToolResult> {
  const text = await readTextFile(target, shown);
  if (typeof text !== "string") return fail(text.error);
  let needle = oldStr;
  let replacement = newStr;
  let matches = occurrences(text, needle);
  // Models write "\n"; a CRLF file would otherwise never match a multi-line old_str.
  if (matches.length === 0 && text.includes("\r\n") && /(?<!\r)\n/.test(oldStr)) {
    needle = toCrlf(oldStr);
    replacement = toCrlf(newStr);
    matches = occurrences(text, needle);
  }
  const [first] = matches;
  if (first === undefined) {
    return fail(
      `No replacement was performed, old_str did not appear verbatim in ${shown}. Check whitespace and indentation; view the file to copy the exact text.`,
    );
  }
  if (matches.length > 1) {
    const lines = [...new Set(matches.map((m) => lineOfOffset(text, m)))];
    return fail(
      `No replacement was performed. Multiple occurrences of old_str in lines ${lines.join(", ")} of ${shown}. Please ensure it is unique by including more surrounding context.`,
    );
  }
  // Slicing rather than String.replace keeps `$&`-style sequences in new_str literal.
  const updated = text.slice(0, first) + replacement + text.slice(first + needle.length);
  await writeFile(target, updated);
  const from = lineOfOffset(updated, first);
  const to = from + (replacement.match(/\n/g)?.length ?? 0);
  return ok(
    `The file ${shown} has been edited. Here's the result of running \`cat -n\` on a snippet of ${shown}:\n${snippetAround(updated, from, to)}\n${REVIEW}`,
  );
}

/** Implements `insert`: adds newStr after line insertLine (0 inserts at the beginning). */
export async function insertIntoFile(
  target: string,
  shown: string,
  insertLine: number,
  newStr: string,
): Promise<ToolResult> {
  const text = await readTextFile(target, shown);
  if (typeof text !== "string") return fail(text.error);
  const file = splitLines(text);
  if (insertLine < 0 || insertLine > file.lines.length) {
    return fail(
      `Invalid \`insert_line\` parameter: ${insertLine}. It should be within the range of lines of the file: [0, ${file.lines.length}]`,
    );
  }
  // A trailing newline in new_str terminates its last line rather than adding a blank one.
  const added = newStr === "" ? [""] : splitLines(newStr).lines;
  const lines = [...file.lines.slice(0, insertLine), ...added, ...file.lines.slice(insertLine)];
  await writeFile(
    target,
    joinLines({ lines, trailingNewline: file.trailingNewline || file.lines.length === 0 }),
  );
  const start = Math.max(1, insertLine - SNIPPET_LINES + 1);
  const end = Math.min(lines.length, insertLine + added.length + SNIPPET_LINES);
  return ok(
    `The file ${shown} has been edited. Here's the result of running \`cat -n\` on a snippet of the edited file:\n${numberLines(lines.slice(start - 1, end), start)}\nReview the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). Edit the file again if necessary.`,
  );
}

function occurrences(text: string, needle: string): number[] {
  const found: number[] = [];
  // Overlapping matches count too: they make the edit just as ambiguous.
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) found.push(i);
  return found;
}

function toCrlf(s: string): string {
  return s.replace(/\r?\n/g, "\r\n");
}
