import Anthropic from "@anthropic-ai/sdk";
import { AuthenticationLinearError, ForbiddenLinearError, InvalidInputLinearError } from "@linear/sdk";
import { RequestError } from "@octokit/request-error";
import { DelayedError, type Job, UnrecoverableError, WaitingError } from "bullmq";
import { isSpendLimit } from "../src/agent/anthropic-client.js";
import { LeaseLostError } from "../src/tasks/locks.js";
import { TransitionError } from "../src/tasks/task-store.js";
import type { TaskContext } from "./job-context.js";

/** How a job failure is handled and what humans are told. */
export interface Failure {
  /** In words a person can act on. */
  message: string;
  retry: boolean;
  cancelled: boolean;
  cause: unknown;
}

/**
 * Sorts an error into "retry later" (network trouble, rate limits, 5xx) and "permanent" (bad
 * credentials, missing repository, refused request), with a message that says what to fix.
 */
export function classifyFailure(
  err: unknown,
  job: Pick<Job, "attemptsMade" | "opts">,
  signal: AbortSignal,
  /**
   * Linear calls act as the OAuth app (not an API key): a refusal names the app's installation.
   * `githubApp`: GitHub calls act as a GitHub App, not GITHUB_TOKEN.
   */
  opts: { linearApp?: boolean; githubApp?: boolean } = {},
): Failure {
  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  const permanent = (message: string): Failure => ({ message, retry: false, cancelled: false, cause: err });
  // A lost lease aborts the run's signal too, but nobody asked it to stop: it is retried like
  // any other failure, not recorded as "stopped".
  if (signal.aborted && signal.reason instanceof LeaseLostError) {
    const message = `The run stopped because ${signal.reason.message}; another worker may have taken over`;
    if (lastAttempt) return permanent(`${message} (gave up after ${job.attemptsMade + 1} attempts)`);
    return { message, retry: true, cancelled: false, cause: err };
  }
  if (signal.aborted) {
    const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? "");
    return { message: `Stopped${reason ? `: ${reason}` : ""}.`, retry: false, cancelled: true, cause: err };
  }
  if (err instanceof UnrecoverableError) return permanent(err.message);
  if (err instanceof RequestError) {
    if (err.status === 401) return githubUnauthorized(err, opts.githubApp === true, lastAttempt, job.attemptsMade + 1);
    if (err.status === 404)
      return permanent(
        `GitHub answered 404 for ${err.request.method} ${new URL(err.request.url).pathname}: the repository does not exist, or ${opts.githubApp ? "the GitHub App's installation" : "GITHUB_TOKEN"} cannot see it.`,
      );
    if (err.status === 403 && !/rate limit/i.test(err.message))
      return permanent(
        `GitHub refused ${err.request.method} ${new URL(err.request.url).pathname} (403): give GITHUB_TOKEN (or the GitHub App) write access to contents and pull requests.`,
      );
    if (err.status === 422) return permanent(`GitHub refused the request (422): ${err.message}`);
  }
  if (err instanceof AuthenticationLinearError)
    return permanent(
      opts.linearApp
        ? "Linear rejected the app's token for this workspace even after renewing it: the app may have been uninstalled there or lost access; install it again (PUBLIC_URL/oauth/linear/install)."
        : "Linear rejected LINEAR_API_KEY. Check the key.",
    );
  if (err instanceof ForbiddenLinearError) return permanent(`Linear refused the request: ${err.message}`);
  if (err instanceof InvalidInputLinearError) return permanent(`Linear refused the request: ${err.message}`);
  if (err instanceof Anthropic.AuthenticationError)
    return permanent("Anthropic rejected ANTHROPIC_API_KEY. Check the key.");
  if (isSpendLimit(err)) {
    return permanent(
      `Anthropic refused the request for billing reasons (${(err as Error).message}). Raise the spend limit or add credit in the Anthropic console, then re-add the label.`,
    );
  }
  if (err instanceof Anthropic.PermissionDeniedError || err instanceof Anthropic.BadRequestError) {
    return permanent(`Anthropic refused the request: ${err.message}`);
  }
  const message = (err as Error)?.message ?? String(err);
  if (lastAttempt) return permanent(`${message} (gave up after ${job.attemptsMade + 1} attempts)`);
  return { message, retry: true, cancelled: false, cause: err };
}

/**
 * GitHub's 401, by what it refused: the App's JWT (its id, key or this machine's clock), an App
 * installation's token that was renewed and still refused (GitHub's side: retried), or GITHUB_TOKEN.
 */
function githubUnauthorized(err: RequestError, app: boolean, lastAttempt: boolean, attempts: number): Failure {
  const route = `${err.request.method} ${new URL(err.request.url).pathname}`;
  // RequestError keeps the scheme of the Authorization it redacts: "bearer" is the App's JWT.
  const scheme = /^\s*(\w+)/.exec(String(err.request.headers.authorization ?? ""))?.[1]?.toLowerCase();
  const permanent = (message: string): Failure => ({ message, retry: false, cancelled: false, cause: err });
  if (scheme === "bearer")
    return permanent(
      `GitHub refused the GitHub App's JWT for ${route} (401: ${err.message}): check that GITHUB_APP_ID is the App's ID and GITHUB_APP_PRIVATE_KEY(_FILE) a private key of that App that is not revoked, and that this machine's clock is right.`,
    );
  if (!app) return permanent(`GitHub rejected GITHUB_TOKEN for ${route} (401): the token is wrong, expired or revoked; set a valid GITHUB_TOKEN.`);
  const message = `GitHub refused the GitHub App installation's token for ${route} (401) even after a new one was minted: GitHub may be having trouble (https://www.githubstatus.com), or the installation was suspended`;
  if (lastAttempt) return permanent(`${message} (gave up after ${attempts} attempts).`);
  return { message: `${message}; retrying.`, retry: true, cancelled: false, cause: err };
}

/** Errors with which Linear refuses the request itself (bad key, no access, no such issue): final. */
export function isLinearRefusal(err: unknown): boolean {
  return (
    err instanceof AuthenticationLinearError ||
    err instanceof ForbiddenLinearError ||
    err instanceof InvalidInputLinearError ||
    (err instanceof Error && /^Linear returned no issue/.test(err.message))
  );
}

/**
 * Tells the task and the Linear comment what went wrong (retrying, failed or stopped); a failure
 * to report is logged, never thrown over the original error. Returns the error to throw: the
 * original one to retry, an UnrecoverableError for permanent failures so BullMQ stops.
 */
export async function recordFailure(c: TaskContext, job: Pick<Job, "attemptsMade" | "opts">, err: unknown): Promise<unknown> {
  if (err instanceof DelayedError || err instanceof WaitingError) return err;
  const failure = classifyFailure(err, job, c.signal, { linearApp: c.deps.linearApp !== null, githubApp: c.deps.clients.github.kind === "app" });
  c.log.error({ err: failure.cause, retry: failure.retry }, `job failed: ${failure.message}`);
  try {
    if (failure.retry) await c.save({ step: `retrying after: ${failure.message}` });
    else {
      await c.save({
        state: failure.cancelled ? "stopped" : "failed",
        step: null,
        error: failure.message,
        finishedAt: new Date().toISOString(),
      });
    }
    await c.publish(true);
  } catch (reportErr) {
    logUnrecorded(c, reportErr, `the failure (${failure.message})`);
  }
  if (failure.retry || err instanceof UnrecoverableError) return err;
  return unrecoverable(failure.message, err);
}

/**
 * Logs that `what` could not be written to the task or Linear. A refused state move is an error:
 * the state machine and the job disagree about where the task is, and an operator must see that
 * the task does not show what happened, not find it among transient warnings.
 */
export function logUnrecorded(c: Pick<TaskContext, "log" | "task">, err: unknown, what: string): void {
  if (err instanceof TransitionError) {
    c.log.error({ err, taskState: c.task().state }, `${what} was not recorded on the task: ${err.message}`);
  } else c.log.warn({ err }, `could not record ${what} on the task or Linear`);
}

/** An UnrecoverableError carrying its cause. */
export function unrecoverable(message: string, cause?: unknown): UnrecoverableError {
  return Object.assign(new UnrecoverableError(message), { cause });
}
