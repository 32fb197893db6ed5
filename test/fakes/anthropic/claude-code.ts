/**
 * What the Anthropic fake needs for Claude Code's dialect (measured with Claude Code 2.1.335):
 * `POST /v1/messages?beta=true`, always streamed; `role:"system"` entries in `messages` and
 * `<system-reminder>` text blocks (the validator accepts both); `HEAD /` and `HEAD /api/hello`
 * connectivity probes; tool-less side requests (a title, a summary) that come at moments a fixed
 * script cannot know, so they are answered without consuming it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ScriptedTurn } from "./respond.js";

/** Every request the fake received, of any route, for assertions about where traffic went. */
export interface FakeRequestRecord {
  method: string;
  /** Path and query string, e.g. "/v1/messages?beta=true". */
  url: string;
  /** The peer's address: a loopback one for every request that reached the fake. */
  remoteAddress: string;
  userAgent: string;
  /** Names of the tools offered (empty for a tool-less request). */
  tools: string[];
  claudeCode: boolean;
}

/** Whether a request comes from Claude Code (its CLI identifies itself as `claude-cli/<version>`). */
export function isClaudeCode(req: IncomingMessage): boolean {
  return /^claude-cli\//.test(req.headers["user-agent"] ?? "") || req.headers["x-app"] === "cli";
}

/** Answers Claude Code's connectivity probes (HEAD / and HEAD /api/hello); true when answered. */
export function answerProbe(req: IncomingMessage, res: ServerResponse): boolean {
  const path = new URL(req.url ?? "/", "http://fake").pathname;
  if (req.method !== "HEAD" || (path !== "/" && path !== "/api/hello")) return false;
  res.writeHead(200).end();
  return true;
}

/** The record of one request. */
export function recordOf(req: IncomingMessage, body: unknown): FakeRequestRecord {
  const tools = Array.isArray((body as { tools?: unknown })?.tools) ? (body as { tools: Array<{ name?: unknown }> }).tools : [];
  return {
    method: req.method ?? "",
    url: req.url ?? "/",
    remoteAddress: req.socket.remoteAddress ?? "",
    userAgent: req.headers["user-agent"] ?? "",
    tools: tools.map((t) => String(t.name)),
    claudeCode: isClaudeCode(req),
  };
}

/** A short answer for Claude Code's tool-less side requests; undefined for its agent turns (and for everyone else). */
export function sideRequestTurn(req: IncomingMessage, body: unknown): ScriptedTurn | undefined {
  if (!isClaudeCode(req)) return undefined;
  const tools = (body as { tools?: unknown[] })?.tools;
  if (Array.isArray(tools) && tools.length > 0) return undefined;
  return { content: [{ type: "text", text: "Scripted side answer." }], stop_reason: "end_turn" };
}

/** The text of a request's first real user message, without Claude Code's `<system-reminder>` blocks. */
export function userPrompt(body: unknown): string {
  const messages = (body as { messages?: Array<{ role: string; content: unknown }> })?.messages ?? [];
  const first = messages.find((m) => m.role === "user");
  if (!first) return "";
  if (typeof first.content === "string") return first.content;
  return (first.content as Array<{ type: string; text?: string }>)
    .filter((b) => b.type === "text" && b.text && !b.text.trimStart().startsWith("<system-reminder>"))
    .map((b) => b.text)
    .join("\n");
}
