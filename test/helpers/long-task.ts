import type { RecordedUsage, ScriptedTurn } from "../fakes/anthropic/index.js";
import { bash, edit, say } from "./turns.js";

// A scripted long task for the context manager: many commands whose output, all told, is several
// times the model's context window. Shared by the e2e test and `npm run bench`.

/** Request bodies are arbitrary JSON here. */
type Json = any;

/** The marker the runner's compaction request starts with (see src/agent/context-manager.ts). */
const COMPACTION_MARK = "[context] This conversation";

/**
 * Scripted turns: `bash` commands that each print `outputChars` characters, enough that their
 * output totals `multiple` × `window` tokens (the fake counts 4 characters a token), then an edit
 * and the report.
 */
export function longTaskTurns(p: { window: number; multiple: number; outputChars?: number }): ScriptedTurn[] {
  const chars = p.outputChars ?? 2_000;
  const count = Math.ceil((p.multiple * p.window * 4) / chars);
  const commands = Array.from({ length: count }, (_, i) => bash(`head -c ${chars} /dev/zero | tr '\\0' ${"abcdefghij"[i % 10]}`));
  return [
    ...commands,
    edit({ command: "create", path: "/repo/greet.txt", file_text: "hello, long task\n" }),
    say(`## Summary\nRead ${count} outputs and updated greet.txt.\n## Files\ngreet.txt\n## Decisions\nnone\n## Open points\nnone`),
  ];
}

/** Answers the runner's compaction request with a progress note (without consuming a scripted turn). */
export function answerCompaction(req: Json): ScriptedTurn | undefined {
  const last = JSON.stringify(req?.messages?.at(-1)?.content ?? "");
  if (!last.includes(COMPACTION_MARK)) return undefined;
  return say("## Summary\nRan the commands so far; their output was as expected.\n## Files\nnone yet\n## Decisions\nnone\n## Open points\nrun the rest, then update greet.txt");
}

/** Share of prompt tokens read from the cache, over the requests from index `from` on (turn 2 on: 1). */
export function cacheReadShare(usages: RecordedUsage[], from = 1): number {
  const rest = usages.slice(from);
  const read = rest.reduce((n, u) => n + u.cache_read_input_tokens, 0);
  const all = rest.reduce((n, u) => n + u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens, 0);
  return all > 0 ? read / all : 0;
}

/** Every prompt token sent, cached or not. */
export function promptTokens(usages: RecordedUsage[]): number {
  return usages.reduce((n, u) => n + u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens, 0);
}
