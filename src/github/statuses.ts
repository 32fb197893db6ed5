import { RequestError } from "@octokit/request-error";
import { UnrecoverableError } from "bullmq";
import type { GateState } from "../status/gate-status.js";
import type { GitHubAccess, RepoRef } from "./access.js";
import { CHECK_OUTPUT_MAX, type CheckConclusion, type CheckOutput, createCheckRun, fitUtf8, latestCheckRun, updateCheckRun } from "./check-runs.js";
import type { GitHub } from "./octokit.js";

/** The commit status context, and the check run's name, shown on agent PRs. */
export const STATUS_CONTEXT = "agent-workforce";

/** What {@link publishGate} shows on a commit. */
export interface GatePublish {
  ref: RepoRef;
  sha: string;
  state: GateState;
  title: string;
  summary: string;
  text?: string;
  detailsUrl?: string;
  /** The task's issue id, kept on the check run to say which task it reports on. */
  externalId?: string;
  signal?: AbortSignal;
}

/**
 * Shows the quality gate on a commit: a check run named `agent-workforce` with an App (GitHub lets
 * only Apps create them), else the `agent-workforce` commit status with the title as description.
 */
export async function publishGate(access: GitHubAccess, p: GatePublish): Promise<void> {
  const gh = await access.forRepo(p.ref, { signal: p.signal });
  if (access.kind === "app") {
    const appSlug = await ownAppSlug(access, p.signal);
    return publishCheckRun(gh, p, appSlug).catch((err: unknown) => rethrowForbidden(err, p.ref));
  }
  await setCommitStatus(gh, {
    owner: p.ref.owner,
    repo: p.ref.repo,
    sha: p.sha,
    state: p.state === "in_progress" ? "pending" : p.state,
    description: p.title,
    targetUrl: p.detailsUrl,
    signal: p.signal,
  });
}

/**
 * A check run is created once per commit and result, then updated while it is not completed: the
 * run is found on GitHub (not remembered), so a retry or another worker updates it instead of
 * adding one. GitHub refuses to reopen a completed run, so a new phase on the same commit (a
 * revision starting) creates a new run, which GitHub then shows as the latest.
 */
async function publishCheckRun(gh: GitHub, p: GatePublish, appSlug: string): Promise<void> {
  const at = { owner: p.ref.owner, repo: p.ref.repo, signal: p.signal };
  const conclusion = CONCLUSION[p.state];
  const output = fitOutput(p);
  const latest = await latestCheckRun(gh, { ...at, sha: p.sha, name: STATUS_CONTEXT, appSlug });
  if (latest && latest.status !== "completed") {
    await updateCheckRun(gh, { ...at, id: latest.id, conclusion, output, detailsUrl: p.detailsUrl });
    return;
  }
  // A retry after this result was shown already: nothing new to say.
  if (latest && conclusion && latest.conclusion === conclusion && latest.output.title === output.title && latest.output.summary === output.summary) return;
  await createCheckRun(gh, { ...at, sha: p.sha, name: STATUS_CONTEXT, conclusion, output, detailsUrl: p.detailsUrl, externalId: p.externalId });
}

/**
 * Our App's slug, its bot login without "[bot]" (read once per process by identity()): check runs
 * are found by the App that created them, since GitHub lets only that App update one.
 */
async function ownAppSlug(access: GitHubAccess, signal?: AbortSignal): Promise<string> {
  const { login } = await access.identity({ signal });
  return login.replace(/\[bot\]$/, "");
}

/**
 * A 403 that is no rate limit: the App was created without the Checks permission, or the
 * installation has not accepted it. Retrying cannot help until a person changes it.
 */
function rethrowForbidden(err: unknown, ref: RepoRef): never {
  if (!(err instanceof RequestError) || err.status !== 403 || /rate limit/i.test(err.message)) throw err;
  const failure = new UnrecoverableError(
    `GitHub refused to create or update the agent-workforce check run on ${ref.owner}/${ref.repo} (403 ${err.message}): give the GitHub App the "Checks: read and write" permission (App settings → Permissions & events), accept the new permission in the installation (Settings → Applications → Configure), then add the label again`,
  );
  failure.cause = err;
  throw failure;
}

// A failed or stopped agent run says nothing about the code, but GitHub has no "error" conclusion;
// failure keeps the PR from looking ready, as the commit status's "error" does.
const CONCLUSION: Record<GateState, CheckConclusion | null> = { in_progress: null, success: "success", failure: "failure", error: "failure" };

function fitOutput(p: GatePublish): CheckOutput {
  return {
    // GitHub documents no limit on the title; it heads the check's page, so one line of sensible length.
    title: fitUtf8(p.title.replace(/\s+/g, " ").trim(), 1_000, "head", "…"),
    summary: fitUtf8(p.summary, CHECK_OUTPUT_MAX, "head"),
    ...(p.text ? { text: fitUtf8(p.text, CHECK_OUTPUT_MAX, "tail") } : {}),
  };
}

/**
 * A newer head replaced `sha` while the gate there said "in progress" (a revision pushed a new
 * commit): with an App, that run is completed as neutral naming the new head, so the old commit
 * does not show a check running forever. A commit status on an old commit is left as it is.
 */
export async function supersedeGate(access: GitHubAccess, p: { ref: RepoRef; sha: string; by: string; signal?: AbortSignal }): Promise<void> {
  if (access.kind !== "app" || p.sha === p.by) return;
  const gh = await access.forRepo(p.ref, { signal: p.signal });
  const at = { owner: p.ref.owner, repo: p.ref.repo, signal: p.signal };
  const latest = await latestCheckRun(gh, { ...at, sha: p.sha, name: STATUS_CONTEXT, appSlug: await ownAppSlug(access, p.signal) });
  if (!latest || latest.status === "completed") return;
  const short = p.by.slice(0, 7);
  await updateCheckRun(gh, {
    ...at,
    id: latest.id,
    conclusion: "neutral",
    output: { title: `Superseded by ${short}`, summary: `The agent pushed ${p.by}; the result is shown on that commit.` },
  });
}

/** Sets the `agent-workforce` commit status on a commit (pending while an agent works). */
export async function setCommitStatus(
  octokit: GitHub,
  p: {
    owner: string;
    repo: string;
    sha: string;
    state: "pending" | "success" | "failure" | "error";
    description: string;
    targetUrl?: string | null;
    signal?: AbortSignal;
  },
): Promise<void> {
  await octokit.rest.repos.createCommitStatus({
    owner: p.owner,
    repo: p.repo,
    sha: p.sha,
    state: p.state,
    context: STATUS_CONTEXT,
    // GitHub rejects descriptions over 140 characters.
    description: p.description.length > 140 ? `${p.description.slice(0, 137)}...` : p.description,
    ...(p.targetUrl ? { target_url: p.targetUrl } : {}),
    request: { signal: p.signal },
  });
}
