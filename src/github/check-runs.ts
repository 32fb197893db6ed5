import type { GitHub } from "./octokit.js";

/** The check run's result, as GitHub names conclusions. */
export type CheckConclusion = "success" | "failure" | "neutral" | "cancelled";

/** What a check run shows: GitHub caps `summary` and `text` at 65535 characters each. */
export interface CheckOutput {
  title: string;
  summary: string;
  text?: string;
}

/** A check run as this module reads it back. */
export interface CheckRunSeen {
  id: number;
  status: string;
  conclusion: string | null;
  externalId: string | null;
  output: { title: string | null; summary: string | null };
}

/** Where a check run lives: one repository and one commit. */
interface At {
  owner: string;
  repo: string;
  signal?: AbortSignal;
}

/**
 * The newest check run named `name` on commit `sha` that the App `appSlug` created, or null.
 * Another App (or Actions) may show a check of the same name on the commit: GitHub refuses to let
 * us update its runs, so only our own are ever found. `filter: "latest"` keeps one run per name
 * and App, so one page of 100 holds ours unless 100 Apps use the name.
 */
export async function latestCheckRun(octokit: GitHub, p: At & { sha: string; name: string; appSlug: string }): Promise<CheckRunSeen | null> {
  const { data } = await octokit.rest.checks.listForRef({
    owner: p.owner,
    repo: p.repo,
    ref: p.sha,
    check_name: p.name,
    filter: "latest",
    per_page: 100,
    request: { signal: p.signal },
  });
  const ours = data.check_runs.filter((r) => r.app?.slug === p.appSlug);
  // Newest first by id: "latest" already keeps one per name, a higher id is the later run.
  const run = ours.sort((a, b) => b.id - a.id)[0];
  if (!run) return null;
  return {
    id: run.id,
    status: run.status,
    conclusion: run.conclusion,
    externalId: run.external_id,
    output: { title: run.output.title, summary: run.output.summary },
  };
}

/** Creates a check run: in progress (started now or at `startedAt`) or completed with `conclusion`. */
export async function createCheckRun(
  octokit: GitHub,
  p: At & { sha: string; name: string; conclusion: CheckConclusion | null; output: CheckOutput; startedAt?: string; detailsUrl?: string; externalId?: string },
): Promise<number> {
  const now = new Date().toISOString();
  const { data } = await octokit.rest.checks.create({
    owner: p.owner,
    repo: p.repo,
    name: p.name,
    head_sha: p.sha,
    started_at: p.startedAt ?? now,
    ...(p.conclusion ? { status: "completed" as const, conclusion: p.conclusion, completed_at: now } : { status: "in_progress" as const }),
    output: p.output,
    ...(p.detailsUrl ? { details_url: p.detailsUrl } : {}),
    ...(p.externalId ? { external_id: p.externalId } : {}),
    request: { signal: p.signal },
  });
  return data.id;
}

/** Updates a check run that is not completed yet (GitHub refuses to change a completed one). */
export async function updateCheckRun(
  octokit: GitHub,
  p: At & { id: number; conclusion: CheckConclusion | null; output: CheckOutput; detailsUrl?: string },
): Promise<void> {
  await octokit.rest.checks.update({
    owner: p.owner,
    repo: p.repo,
    check_run_id: p.id,
    ...(p.conclusion ? { status: "completed" as const, conclusion: p.conclusion, completed_at: new Date().toISOString() } : { status: "in_progress" as const }),
    output: p.output,
    ...(p.detailsUrl ? { details_url: p.detailsUrl } : {}),
    request: { signal: p.signal },
  });
}

/**
 * GitHub's limit on a check run's `summary` and `text`. The docs say characters, but GitHub
 * counts bytes of UTF-8 in practice (github/docs#35252), so every fit below counts bytes.
 */
export const CHECK_OUTPUT_MAX = 65_535;

/**
 * `text` cut to at most `maxBytes` of UTF-8, on a character boundary, with `marker` where it was
 * cut: the head kept (a summary reads from the top) or the tail (a check fails at the end).
 */
export function fitUtf8(text: string, maxBytes: number, keep: "head" | "tail", marker = "\n[… cut to fit GitHub's limit …]\n"): string {
  const buf = Buffer.from(text, "utf8");
  if (buf.length <= maxBytes) return text;
  const room = Math.max(0, maxBytes - Buffer.byteLength(marker, "utf8"));
  // A UTF-8 continuation byte is 10xxxxxx: move off it so no character is split.
  const isCont = (i: number) => ((buf[i] as number) & 0xc0) === 0x80;
  if (keep === "head") {
    let end = room;
    while (end > 0 && isCont(end)) end--;
    return buf.subarray(0, end).toString("utf8") + marker;
  }
  let start = buf.length - room;
  while (start < buf.length && isCont(start)) start++;
  return marker + buf.subarray(start).toString("utf8");
}
