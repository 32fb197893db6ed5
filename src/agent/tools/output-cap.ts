/** Keeps the head and tail of text longer than max, marking how much was cut from the middle. */
export function capOutput(text: string, max: number): string {
  if (text.length <= max) return text;
  const headLength = Math.floor(max / 2);
  const tailLength = max - headLength;
  return joinCapped(
    text.slice(0, headLength),
    text.length - max,
    tailLength > 0 ? text.slice(-tailLength) : "",
  );
}

function joinCapped(head: string, omitted: number, tail: string): string {
  return `${head}\n[... ${omitted} characters omitted ...]\n${tail}`;
}

// Slack kept beyond `max` in the tail window so a sentinel arriving at the end is never trimmed away.
const TAIL_SLACK = 8192;

/**
 * Accumulates streamed output in bounded memory: the first `max` characters and a sliding
 * window over the most recent ones, so a command printing gigabytes cannot exhaust the heap.
 */
export class OutputCollector {
  private head = "";
  private tail = "";
  private dropped = 0;

  constructor(private readonly max: number) {}

  /** Appends a decoded chunk. */
  push(text: string): void {
    let rest = text;
    if (this.head.length < this.max) {
      const room = this.max - this.head.length;
      this.head += rest.slice(0, room);
      rest = rest.slice(room);
    }
    if (rest === "") return;
    this.tail += rest;
    if (this.tail.length > 2 * (this.max + TAIL_SLACK)) {
      const cut = this.tail.length - (this.max + TAIL_SLACK);
      this.dropped += cut;
      this.tail = this.tail.slice(cut);
    }
  }

  /** The retained text (head then tail; when something was dropped it is missing between them). */
  retained(): string {
    return this.head + this.tail;
  }

  /** The capped output made of the retained text up to `end` (an index into retained()). */
  render(end = this.head.length + this.tail.length): string {
    if (this.dropped === 0) return capOutput(this.retained().slice(0, end), this.max);
    const tail = this.tail.slice(0, Math.max(0, end - this.head.length));
    const headLength = Math.floor(this.max / 2);
    const tailLength = this.max - headLength;
    const keptTail = tailLength > 0 ? tail.slice(-tailLength) : "";
    const omitted = this.head.length - headLength + this.dropped + tail.length - keptTail.length;
    return joinCapped(this.head.slice(0, headLength), omitted, keptTail);
  }
}
