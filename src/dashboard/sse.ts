/** One server-sent event; multi-line data becomes several `data:` lines, as the format requires. */
export function sseEvent(event: string, data: string): string {
  return `event: ${event}\n${data
    .split(/\r?\n/)
    .map((line) => `data: ${line}`)
    .join("\n")}\n\n`;
}
