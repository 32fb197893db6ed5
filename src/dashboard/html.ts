// Small formatting helpers for the server-rendered dashboard. Every piece of task text reaches the
// page through esc(): titles, errors and steps are written by users and agents.

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for use in HTML content and quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** The URL when it is http(s), else null: a `javascript:` link in a title must never become clickable. */
export function safeUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:" ? u.toString() : null;
  } catch {
    return null;
  }
}

/** An external link (escaped), or the escaped text alone when the URL is not safe. */
export function link(url: string | null | undefined, text: string, cls = ""): string {
  const safe = safeUrl(url);
  const c = cls ? ` class="${esc(cls)}"` : "";
  return safe ? `<a href="${esc(safe)}"${c} target="_blank" rel="noopener noreferrer">${esc(text)}</a>` : `<span${c}>${esc(text)}</span>`;
}

/** "45s", "12m", "3h 05m", "2d 4h". */
export function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return "–";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** "950", "45.1k", "1.25M". */
export function tokens(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return "–";
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(2)}M`;
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  return String(Math.round(n));
}

/** "$0.42"; cents are enough on a dashboard. */
export function usd(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return "–";
  return n > 0 && n < 0.01 ? "<$0.01" : `$${n.toFixed(2)}`;
}

/** "67%", or "–" when there is nothing to divide yet. */
export function percent(ratio: number | null): string {
  return ratio === null || !Number.isFinite(ratio) ? "–" : `${Math.round(ratio * 100)}%`;
}

/** Milliseconds between two ISO times (or an ISO time and now), null when either is missing. */
export function between(from: string | null, to: string | null, now: number): number | null {
  if (!from) return null;
  const start = Date.parse(from);
  const end = to ? Date.parse(to) : now;
  return Number.isFinite(start) && Number.isFinite(end) ? end - start : null;
}
