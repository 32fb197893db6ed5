/**
 * Token estimation and prompt-cache simulation.
 *
 * The prompt is flattened in cache-prefix order (tools → system → messages) into segments, one per tool,
 * system block and message content block. Tokens are estimated as ceil(chars / 4) of the segments'
 * serialized form (cache_control markers excluded, so moving a breakpoint does not change the prefix).
 */
import { createHash } from "node:crypto";

type Json = Record<string, unknown>;
/** Block boundaries checked for a hit at and before each breakpoint (the API documents about 20). */
const LOOKBACK = 20;
export type Ttl = "5m" | "1h";

export interface Segment {
  text: string;
  /** Set when the block (or a block nested in a tool_result) carries cache_control. */
  breakpoint: Ttl | null;
  /** Number of cache_control markers in the block (nested ones included). */
  markers: number;
}

export interface CacheUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  /** Creation tokens attributed to the TTL of the last breakpoint. */
  ttl: Ttl;
}

function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function ttlOf(v: unknown): Ttl | null {
  if (!isObj(v) || v.type !== "ephemeral") return null;
  return v.ttl === "1h" ? "1h" : "5m";
}

function serialize(value: unknown): string {
  return JSON.stringify(value, (key, v) => (key === "cache_control" ? undefined : v));
}

function blockSegment(block: unknown, prefix: Json): Segment {
  let breakpoint = isObj(block) ? ttlOf(block.cache_control) : null;
  let markers = breakpoint ? 1 : 0;
  if (isObj(block) && Array.isArray(block.content)) {
    for (const inner of block.content) {
      const t = isObj(inner) ? ttlOf(inner.cache_control) : null;
      if (t) {
        markers += 1;
        breakpoint = breakpoint ?? t;
      }
    }
  }
  return { text: serialize({ ...prefix, block }), breakpoint, markers };
}

/** Flattens a Messages request into cache-prefix-ordered segments. */
export function segmentsOf(body: Json): Segment[] {
  const out: Segment[] = [];
  if (Array.isArray(body.tools)) for (const tool of body.tools) out.push(blockSegment(tool, { tool: true }));
  if (typeof body.system === "string")
    out.push({ text: serialize({ system: body.system }), breakpoint: null, markers: 0 });
  else if (Array.isArray(body.system))
    for (const b of body.system) out.push(blockSegment(b, { system: true }));
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) {
      if (!isObj(m)) continue;
      const content = typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content;
      if (!Array.isArray(content)) continue;
      content.forEach((b, i) => {
        out.push(blockSegment(b, i === 0 ? { role: m.role, start: true } : { role: m.role }));
      });
    }
  }
  // Top-level cache_control: automatic breakpoint on the last cacheable block.
  const auto = ttlOf(body.cache_control);
  const last = out.at(-1);
  if (auto && last && !last.breakpoint) {
    last.breakpoint = auto;
    last.markers += 1;
  }
  return out;
}

export function countMarkers(segments: Segment[]): number {
  return segments.reduce((n, s) => n + s.markers, 0);
}

export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

export function totalTokens(body: Json): number {
  return estimateTokens(segmentsOf(body).reduce((n, s) => n + s.text.length, 0));
}

/** Cache entries keyed by prefix hash; each remembers when it expires (refreshed on every hit). */
export class PromptCache {
  private readonly entries = new Map<string, number>();

  /** `ttl5mMs` shortens the cache's lifetime (1h entries live 12× as long) so tests need not wait minutes. */
  constructor(
    private readonly minCacheableTokens: number,
    private readonly ttl5mMs = 300_000,
  ) {}

  /** Computes usage for a request and records the prefixes it writes. */
  apply(model: string, segments: Segment[], now = Date.now()): CacheUsage {
    const hashes: string[] = [];
    const prefixTokens: number[] = [];
    let hash = createHash("sha256").update(`model:${model}`).digest("hex");
    let chars = 0;
    for (const s of segments) {
      hash = createHash("sha256").update(hash).update(s.text).digest("hex");
      chars += s.text.length;
      hashes.push(hash);
      prefixTokens.push(estimateTokens(chars));
    }
    const total = estimateTokens(chars);
    const breakpoints = segments.flatMap((s, i) => (s.breakpoint ? [i] : []));
    const lastBp = breakpoints.at(-1);
    if (lastBp === undefined)
      return { input_tokens: total, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, ttl: "5m" };

    const ttlMs = (i: number) => (segments[i]?.breakpoint === "1h" ? this.ttl5mMs * 12 : this.ttl5mMs);
    // Longest cached prefix wins: every breakpoint is checked, and (like the API) so are the
    // LOOKBACK block boundaries before it, which finds a previous request's breakpoint after it moved.
    let read = 0;
    for (const bp of breakpoints) {
      for (let i = bp; i >= 0 && i > bp - LOOKBACK; i--) {
        const key = hashes[i] ?? "";
        const expires = this.entries.get(key);
        if (expires === undefined || expires <= now) continue;
        this.entries.set(key, now + ttlMs(bp));
        read = Math.max(read, prefixTokens[i] ?? 0);
        break;
      }
    }
    const lastTokens = prefixTokens[lastBp] ?? 0;
    let creation = 0;
    if (lastTokens >= this.minCacheableTokens) {
      creation = lastTokens - read;
      for (const i of breakpoints) {
        if ((prefixTokens[i] ?? 0) >= this.minCacheableTokens)
          this.entries.set(hashes[i] ?? "", now + ttlMs(i));
      }
    }
    return {
      input_tokens: total - read - creation,
      cache_creation_input_tokens: creation,
      cache_read_input_tokens: read,
      ttl: segments[lastBp]?.breakpoint ?? "5m",
    };
  }
}
