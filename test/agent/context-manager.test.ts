import type Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import {
  CLEARED_RESULT,
  clearToolResults,
  compactedHistory,
  mechanicalNote,
  PromptSize,
} from "../../src/agent/context-manager.js";
import { validateRequest } from "../fakes/anthropic/validate.js";

type Message = Anthropic.Messages.MessageParam;

/** A history of `n` tool turns: each a bash call whose result is `size` characters. */
function history(n: number, size = 1_000): Message[] {
  const messages: Message[] = [{ role: "user", content: [{ type: "text", text: "Implement the issue." }] }];
  for (let i = 0; i < n; i++) {
    messages.push({
      role: "assistant",
      content: [
        { type: "thinking", thinking: `plan ${i}`, signature: `sig${i}` },
        { type: "text", text: `Step ${i}.` },
        { type: "tool_use", id: `toolu_${i}`, name: "bash", input: { command: `step ${i}` } },
      ],
    });
    messages.push({
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: `toolu_${i}`, content: String(i % 10).repeat(size) },
        { type: "text", text: "[limits] plenty left." },
      ],
    });
  }
  return messages;
}

const resultOf = (m: Message | undefined) => (Array.isArray(m?.content) ? (m.content[0] as { content?: unknown }).content : undefined);
const valid = (messages: Message[]) =>
  validateRequest({ model: "m", max_tokens: 10, messages } as never, { requireMaxTokens: true, strictAlternation: true });

describe("clearToolResults", () => {
  it("clears the oldest results first, stops once enough is freed, and never touches the last three", () => {
    const messages = history(8);
    const cleared = clearToolResults(messages, 2_500);

    expect(cleared.results).toBe(3); // 3 × ~1,000 characters reach 2,500
    expect(cleared.chars).toBeGreaterThanOrEqual(2_500);
    expect([2, 4, 6].map((i) => resultOf(messages[i]))).toEqual([CLEARED_RESULT, CLEARED_RESULT, CLEARED_RESULT]);
    expect(resultOf(messages[8])).toBe("3".repeat(1_000));
    expect(valid(messages)).toBeNull();

    const all = clearToolResults(messages, Number.POSITIVE_INFINITY);
    expect(all.results).toBe(2); // results 3 and 4; 5, 6 and 7 are kept
    expect([14, 16].map((i) => resultOf(messages[i]))).toEqual(["6".repeat(1_000), "7".repeat(1_000)]);
  });

  it("also cuts large string inputs of old tool calls (a created file's text), keeping the call well-formed", () => {
    const messages = history(5);
    const call = (messages[1]?.content as Anthropic.Messages.ToolUseBlockParam[])[2];
    if (call) call.input = { command: "create", path: "a.ts", file_text: "x".repeat(5_000) };
    const cleared = clearToolResults(messages, 5_500);

    expect(cleared.inputs).toBe(1);
    expect(call?.input).toEqual({ command: "create", path: "a.ts", file_text: "[cleared to save context]" });
    expect(valid(messages)).toBeNull();
  });
});

describe("compactedHistory", () => {
  it("keeps the task, puts the note after it, and keeps the last turns with each result after its call", () => {
    const messages = history(6);
    const next = compactedHistory(messages, "## Summary\nHalf done.", 2);
    if (!next) throw new Error("expected a compacted history");

    expect(next).toHaveLength(5); // the task with the note, then two assistant/user exchanges
    const head = next[0]?.content as Anthropic.Messages.TextBlockParam[];
    expect(head[0]?.text).toBe("Implement the issue.");
    expect(head[1]?.text).toContain("<progress-note>\n## Summary\nHalf done.\n</progress-note>");
    expect(next.slice(1)).toEqual([
      { ...messages[9], content: (messages[9]?.content as unknown[]).slice(1) }, // its thinking dropped
      messages[10],
      messages[11], // the last assistant message keeps its thinking
      messages[12],
    ]);
    expect(valid(next)).toBeNull();
  });

  it("replaces an earlier note instead of adding a second one, and with no turns kept is the task alone", () => {
    const once = compactedHistory(history(4), "first note", 1);
    if (!once) throw new Error("expected a compacted history");
    const twice = compactedHistory([...once, ...history(3).slice(1)], "second note", 0);

    expect(twice).toHaveLength(1);
    const text = JSON.stringify(twice);
    expect(text).toContain("second note");
    expect(text).not.toContain("first note");
    expect(valid(twice ?? [])).toBeNull();
  });

  it("returns null when there are fewer turns than asked to keep", () => {
    expect(compactedHistory(history(1), "note", 2)).toBeNull();
  });
});

describe("PromptSize and mechanicalNote", () => {
  it("calibrates tokens per character on the API's own count", () => {
    const size = new PromptSize();
    expect(size.tokens(3_000)).toBe(1_000); // before any answer: 1 token per 3 characters
    size.calibrate(4_000, 1_000);
    expect(size.tokens(8_000)).toBe(2_000);
    expect(size.chars(500)).toBe(2_000);
  });

  it("says what the service knows when the model cannot write the note", () => {
    const note = mechanicalNote(history(3), ["src/a.ts"]);
    expect(note).toContain("## Files\nsrc/a.ts");
    expect(note).toContain("Step 2.");
    expect(note).toMatch(/## Open points\n.*git status/);
  });
});
