import { escapeAttr, escapeData } from "./prompts.js";

// A sub-issue's share of its tree, for its first message: the parent's goal, the interfaces the
// plan agreed and the hand-off notes of the merged sub-issues it depends on. Only summaries cross
// from one agent to another, never a conversation: that is what keeps state transfer cheap.

/** The report sections a hand-off note keeps (the shape the system prompt asks every agent for). */
const NOTE_SECTIONS = ["Summary", "Files", "Decisions", "Open points"];

/** A note longer than this is cut: a dependant needs the gist and the files, not the whole story. */
export const NOTE_MAX_CHARS = 1_500;

/** What a child's tree context is rendered from. */
export interface TreeContextInput {
  parent: { identifier: string; goal: string; interfaces: string };
  /** Merged blockers: their identifier, title and hand-off note (the agent's final report). */
  notes: Array<{ identifier: string; title: string; note: string }>;
}

/** The tree section of a child's first message (see `issuePrompt`), every piece escaped as data. */
export function renderTreeContext(input: TreeContextInput): string {
  const { parent, notes } = input;
  const parts = [
    `This issue is a sub-issue of ${escapeData(parent.identifier)}. The parent's goal, and the interfaces its sub-issues agreed on (keep to them; other sub-issues rely on them):`,
    `<parent_goal from="${escapeAttr(parent.identifier)}">\n${escapeData(parent.goal.trim()) || "(none)"}\n</parent_goal>`,
    `<interfaces>\n${escapeData(parent.interfaces.trim()) || "(none)"}\n</interfaces>`,
  ];
  if (notes.length) {
    parts.push(
      "The sub-issues this one depends on are merged: their code is already on the base branch you start from. " +
        "These are summaries of that merged work (their agents' reports), not their conversations:",
      ...notes.map(
        (n) => `<dependency_note from="${escapeAttr(n.identifier)}" title="${escapeAttr(n.title)}">\n${escapeData(trimNote(n.note)) || "(no report)"}\n</dependency_note>`,
      ),
    );
  }
  return parts.join("\n");
}

/**
 * A hand-off note cut to the report's sections (Summary, Files, Decisions, Open points), at most
 * NOTE_MAX_CHARS: whatever else the text holds (acceptance criteria, replies, anything the agent
 * wrote around its report) stays behind. A text without those sections is cut to the cap.
 */
export function trimNote(note: string, max = NOTE_MAX_CHARS): string {
  const sections = reportSections(note);
  const kept = sections.length ? sections.join("\n") : note.trim();
  return cap(kept, max);
}

/** The report's sections in NOTE_SECTIONS, each with its heading, in the order written. */
function reportSections(text: string): string[] {
  const lines = text.split("\n");
  const out: string[] = [];
  let current: string[] | null = null;
  for (const line of lines) {
    const heading = /^#{1,6}\s+(.+?)\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      if (current) out.push(current.join("\n").trim());
      current = NOTE_SECTIONS.some((s) => s.toLowerCase() === heading.toLowerCase()) ? [`## ${heading}`] : null;
    } else current?.push(line);
  }
  if (current) out.push(current.join("\n").trim());
  return out;
}

/** Cuts text to `max` characters at a line end where one is near, saying it was cut. */
function cap(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = "\n… (note cut)";
  const room = max - marker.length;
  const cut = text.lastIndexOf("\n", room);
  return `${text.slice(0, cut > room / 2 ? cut : room).trimEnd()}${marker}`;
}

/**
 * Tokens of a text, ESTIMATED as ceil(characters / 4): Anthropic's tokenizer is not public and the
 * API's count_tokens endpoint would cost a request per measurement, while this figure only sizes
 * the state transfer for the dashboard and the roll-up (English prose and code average about four
 * characters a token).
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
