import { stat } from "node:fs/promises";
import { type Opened, openInside, overwrite } from "./editor-fs.js";
import {
  directoryError,
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
export async function createFile(
  rootReal: string,
  target: string,
  shown: string,
  fileText: string,
): Promise<ToolResult> {
  // Only for the wording of the reply; what is written is decided by openInside.
  const existing = await stat(target).catch(() => undefined);
  const isDirectory = `The path ${shown} is a directory; cannot create a file there.`;
  if (existing?.isDirectory()) return fail(isDirectory);
  const file = await openInside(rootReal, target, shown, "create").catch(onDirectory(isDirectory));
  if ("content" in file) return file;
  try {
    await overwrite(file, fileText);
  } finally {
    await file.handle.close();
  }
  return ok(
    existing ? `File overwritten successfully at: ${shown}` : `File created successfully at: ${shown}`,
  );
}

/** Implements `str_replace`: replaces the single verbatim occurrence of oldStr with newStr. */
export async function replaceInFile(
  rootReal: string,
  target: string,
  shown: string,
  oldStr: string,
  newStr: string,
): Promise<ToolResult> {
  const file = await openInside(rootReal, target, shown, "update").catch(onDirectory(directoryError(shown)));
  if ("content" in file) return file;
  try {
    return await replaceThrough(file, shown, oldStr, newStr);
  } finally {
    await file.handle.close();
  }
}

// Reads and writes through one descriptor, so the file edited is the file that was read.
async function replaceThrough(file: Opened, shown: string, oldStr: string, newStr: string): Promise<ToolResult> {
  const text = await readTextFile(file.handle, shown);
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
  await overwrite(file, updated);
  const from = lineOfOffset(updated, first);
  const to = from + (replacement.match(/\n/g)?.length ?? 0);
  return ok(
    `The file ${shown} has been edited. Here's the result of running \`cat -n\` on a snippet of ${shown}:\n${snippetAround(updated, from, to)}\n${REVIEW}`,
  );
}

/** Implements `insert`: adds newStr after line insertLine (0 inserts at the beginning). */
export async function insertIntoFile(
  rootReal: string,
  target: string,
  shown: string,
  insertLine: number,
  newStr: string,
): Promise<ToolResult> {
  const file = await openInside(rootReal, target, shown, "update").catch(onDirectory(directoryError(shown)));
  if ("content" in file) return file;
  try {
    return await insertThrough(file, shown, insertLine, newStr);
  } finally {
    await file.handle.close();
  }
}

async function insertThrough(out: Opened, shown: string, insertLine: number, newStr: string): Promise<ToolResult> {
  const text = await readTextFile(out.handle, shown);
  if (typeof text !== "string") return fail(text.error);
  const current = splitLines(text);
  if (insertLine < 0 || insertLine > current.lines.length) {
    return fail(
      `Invalid \`insert_line\` parameter: ${insertLine}. It should be within the range of lines of the file: [0, ${current.lines.length}]`,
    );
  }
  // A trailing newline in new_str terminates its last line rather than adding a blank one.
  const added = newStr === "" ? [""] : splitLines(newStr).lines;
  const lines = [...current.lines.slice(0, insertLine), ...added, ...current.lines.slice(insertLine)];
  await overwrite(out, joinLines({ lines, trailingNewline: current.trailingNewline || current.lines.length === 0 }));
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

// Text commands on a directory fail at the open (EISDIR); the model gets the usual explanation.
function onDirectory(message: string) {
  return (err: unknown): ToolResult => {
    if ((err as NodeJS.ErrnoException).code === "EISDIR") return fail(message);
    throw err;
  };
}
