/** How a person's answer to "which repository?" reads against the candidates offered. */
export type RepoAnswer = { kind: "match"; repo: string } | { kind: "ambiguous"; among: string[] } | { kind: "none" };

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>()`'"]+/i;
const BARE_GITHUB = /\b(?:www\.)?github\.com\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)/i;

/**
 * Matches an answer (the chosen option's value, or free text) against the candidate repositories
 * (owner/name), most precise reading first: the exact name (any case), a URL of one (GitHub's or a
 * GitHub Enterprise host's: its path names owner/name), a unique fragment of a name ("widg"), then
 * a sentence that names exactly one ("use the widgets repo, please"). A URL of something else, or
 * a fragment several names share, never guesses. Pure.
 */
export function matchRepoAnswer(answer: string, candidates: readonly string[]): RepoAnswer {
  const text = unwrap(answer);
  if (!text || candidates.length === 0) return { kind: "none" };
  const exact = candidates.find((c) => c.toLowerCase() === text.toLowerCase());
  if (exact) return { kind: "match", repo: exact };
  const fromUrl = urlRepo(text);
  if (fromUrl) {
    const hit = candidates.find((c) => c.toLowerCase() === fromUrl.toLowerCase());
    return hit ? { kind: "match", repo: hit } : { kind: "none" };
  }
  if (!/\s/.test(text)) return text.length < 2 ? { kind: "none" } : pick(candidates.filter((c) => c.toLowerCase().includes(text.toLowerCase())));
  return pick(mentioned(text, candidates));
}

// Strips what chat or Markdown wraps an answer in: quotes, backticks, <links>, a final full stop.
function unwrap(answer: string): string {
  let t = answer.trim();
  for (;;) {
    const next = t.replace(/^[`'"<*_]+|[`'">*_]+$/g, "").replace(/[.!]+$/, "").trim();
    if (next === t) return t;
    t = next;
  }
}

// owner/name from the first two path segments of a URL in the answer (".git" and deeper paths dropped).
function urlRepo(text: string): string | null {
  const url = URL_IN_TEXT.exec(text)?.[0];
  if (url && URL.canParse(url)) {
    const [owner, name] = new URL(url).pathname.split("/").filter(Boolean);
    return owner && name ? `${owner}/${name.replace(/\.git$/i, "")}` : null;
  }
  const bare = BARE_GITHUB.exec(text);
  return bare ? `${bare[1]}/${(bare[2] as string).replace(/\.git$/i, "")}` : null;
}

// Candidates a sentence names as a word: the full owner/name, or the name part alone.
function mentioned(text: string, candidates: readonly string[]): string[] {
  const words = new Set(text.toLowerCase().split(/[^a-z0-9_./-]+/).map((w) => w.replace(/^[./]+|[./]+$/g, "")).filter(Boolean));
  const full = candidates.filter((c) => words.has(c.toLowerCase()));
  if (full.length > 0) return full;
  return candidates.filter((c) => words.has((c.split("/")[1] ?? "").toLowerCase()));
}

function pick(hits: readonly string[]): RepoAnswer {
  if (hits.length === 1) return { kind: "match", repo: hits[0] as string };
  return hits.length > 1 ? { kind: "ambiguous", among: [...hits] } : { kind: "none" };
}
