import type http from "node:http";

/** Token counts of one answer, as the API reports them. */
export interface GatewayUsage {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

type RawUsage = { input_tokens?: number | null; output_tokens?: number | null; cache_creation_input_tokens?: number | null; cache_read_input_tokens?: number | null };
type Event = { type?: string; model?: string; message?: { model?: string; usage?: RawUsage }; usage?: RawUsage };

/**
 * Reads the usage of a Messages answer (SSE: message_start, then message_delta; JSON: its usage)
 * as it passes, and books it once when the answer ends or is cut off (the client hung up, the
 * upstream failed): a cut answer was still paid for, at least its input as message_start told.
 */
export function meter(up: http.IncomingMessage, onUsage: (model: string, usage: GatewayUsage) => void): void {
  const sse = String(up.headers["content-type"] ?? "").includes("text/event-stream");
  let buffer = "";
  let model = "";
  let usage: GatewayUsage = { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };
  let booked = false;
  const take = (u: RawUsage | undefined) => {
    if (!u) return;
    usage = {
      input: u.input_tokens ?? usage.input,
      output: u.output_tokens ?? usage.output,
      cacheWrite: u.cache_creation_input_tokens ?? usage.cacheWrite,
      cacheRead: u.cache_read_input_tokens ?? usage.cacheRead,
    };
  };
  const line = (text: string) => {
    if (sse && !text.startsWith("data:")) return;
    try {
      const e = JSON.parse(sse ? text.slice(5) : text) as Event;
      if (e.type === "message_start") {
        model = e.message?.model ?? model;
        take(e.message?.usage);
      } else if (e.type === "message_delta" || e.type === "message") {
        model = e.model ?? model;
        take(e.usage);
      }
    } catch {
      // not JSON (or a line cut in half): nothing to meter in it
    }
  };
  const book = () => {
    if (booked) return;
    booked = true;
    if (model) onUsage(model, usage);
  };
  up.setEncoding("utf8");
  up.on("data", (chunk: string) => {
    buffer += chunk;
    if (!sse) return;
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    lines.forEach(line);
  });
  up.once("end", () => {
    if (buffer) line(buffer);
    book();
  });
  up.once("close", book);
}
