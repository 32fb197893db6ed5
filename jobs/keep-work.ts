import { checkInputsTouched } from "../src/agent/check-inputs.js";
import { LeaseLostError } from "../src/tasks/locks.js";
import type { GatedOutcome } from "../src/agent/run-with-checks.js";
import type { Landed, Usage } from "../src/tasks/task.js";
import type { Worktree } from "../src/workspace/index.js";
import { InterruptedError, type PassResult, type RunEnd } from "./agent-pass.js";
import { unrecoverable } from "./failures.js";
import type { TaskContext } from "./job-context.js";

/** What keepWork needs from the pass. */
interface Kept {
  worktree: Worktree;
  /** The repository pushed to (its token is asked for at push time: an App's expire within the hour). */
  repo: { owner: string; name: string };
  run: RunEnd;
  pass: { turns: number; usage: Usage; costUsd: number };
  branch: string;
  commitMessage: string;
  /** The routing file's check command, to name the changed files the checks depend on. */
  checkCommand: string | undefined;
  /** The checkpoint of finished work at `sha`, saved (as not yet pushed) before the push. */
  checkpoint?: (result: PassResult, sha: string) => Landed;
}

/**
 * Commits and pushes what the agent left in the worktree, whatever ended its run: a finished run
 * becomes the job's commit; a failed one (an Anthropic error after the SDK's retries, a context
 * overflow, a lost lease, a worker shutdown) becomes a WIP commit, pushed when the push can
 * succeed and kept in the mirror otherwise, with a hand-off note saying what is left, and the
 * failure is thrown on. Only a stop (the label removed, Stop pressed) pushes nothing.
 */
export async function keepWork(c: TaskContext, k: Kept): Promise<PassResult> {
  const { run } = k;
  const lostLease = c.signal.aborted && c.signal.reason instanceof LeaseLostError;
  if (!lostLease && (c.signal.aborted || run.gated?.outcome.stop === "aborted")) {
    throw run.failure ?? new Error("the run was stopped");
  }
  const failure: unknown = run.failure ?? (lostLease ? c.signal.reason : null);
  const interrupted = failure === null && run.gated?.outcome.stop === "interrupted";
  const unfinished = failure !== null || interrupted;
  const cause = failure !== null ? causeOf(failure) : "a worker shutdown";
  const sha = await k.worktree.commitAll({
    message: unfinished ? `WIP: ${k.commitMessage.split("\n")[0]} (interrupted by ${cause})` : k.commitMessage,
    author: await commitAuthor(c),
  });
  const ahead = (await k.worktree.commitsAhead()).length > 0;
  const checkInputs = ahead ? checkInputsTouched(await k.worktree.changedFiles(), k.checkCommand) : [];
  const head = sha ?? (k.worktree.unpushed ? k.worktree.startSha : null);
  const note = (pushedSha: string | null) => {
    const previous = c.task().handoff;
    const earlier = previous && !previous.startsWith("Interrupted") ? previous : "";
    return handoffNote({ cause, pushedSha, kept: head, branch: k.branch, lastWords: run.gated?.outcome.finalText ?? "", earlier });
  };
  // Recorded before the push: a crash or a failed Redis write between commit and push must leave
  // the next run knowing the work exists (and, for finished work, that only the push is left).
  const draft = (): PassResult => ({ gated: run.gated as GatedOutcome, pushedSha: null, unpushed: null, committed: sha !== null, checkInputs, pass: k.pass });
  const checkpoint = !unfinished && head && k.checkpoint ? { ...k.checkpoint(draft(), head), pushed: false } : null;
  if (head) await c.save({ unpushedSha: head, ...(checkpoint ? { landed: checkpoint } : {}), ...(unfinished ? { handoff: note(null) } : {}) });
  let pushedSha: string | null = null;
  let pushError: Error | null = null;
  // A lost lease may mean another worker now holds the branch: keep the commit, push nothing.
  if (ahead && !lostLease) {
    await c.save({ step: "pushing the branch" });
    try {
      pushedSha = await pushWithFreshToken(c, k);
      c.log.info({ sha: pushedSha }, "branch pushed");
      await c.save({ unpushedSha: null, ...(unfinished ? { handoff: note(pushedSha) } : {}) });
    } catch (err) {
      pushError = pushFailure(err as Error);
      c.log.warn({ err }, "push failed; the commit is kept on this worker's mirror");
    }
  }
  if (unfinished) {
    if (failure === null) throw new InterruptedError(`interrupted by a worker shutdown after ${k.pass.turns} turns; the work so far is ${pushedSha ? "pushed" : "kept"}`);
    throw failure;
  }
  const unpushed = pushError && head ? { sha: head, error: pushError } : null;
  if (pushError && !unpushed) throw pushError;
  return { ...draft(), pushedSha, unpushed };
}

/** The commit author: the App's bot (`<slug>[bot]`, its noreply address) for an App, AGENT_GIT_NAME/EMAIL for a token. */
async function commitAuthor(c: TaskContext): Promise<{ name: string; email: string }> {
  const { config, clients } = c.deps;
  const configured = { name: config.agent.gitName, email: config.agent.gitEmail };
  if (clients.github.kind !== "app") return configured;
  try {
    const me = await clients.github.identity({ signal: c.signal });
    return { name: me.name, email: me.email };
  } catch (err) {
    // The agent's work matters more than its author line: commit it under the configured name.
    c.log.warn({ err }, "could not read the App's bot identity; committing as AGENT_GIT_NAME");
    return configured;
  }
}

/**
 * Pushes with the repository's current token. An App's token refused by git (revoked or expired
 * before its time) is renewed once and the push tried again.
 */
async function pushWithFreshToken(c: TaskContext, k: Kept): Promise<string> {
  const ref = { owner: k.repo.owner, repo: k.repo.name };
  const access = c.deps.clients.github;
  const push = async (renew: boolean) => (await k.worktree.push({ token: await access.gitToken(ref, { signal: c.signal, renew }), signal: c.signal })).sha;
  try {
    return await push(false);
  } catch (err) {
    if (access.kind !== "app" || c.signal.aborted || !GIT_AUTH_REFUSED.test((err as Error).message)) throw err;
    c.log.info("git refused the installation token; pushing again with a new one");
    return push(true);
  }
}

/** What git says when the server refuses its credentials (with prompts off, it cannot ask). */
const GIT_AUTH_REFUSED = /Authentication failed|could not read Username|HTTP 401|401 Unauthorized|Invalid username or password/i;

/** The note the next run starts from, saying where the work is and what ended the last run. */
function handoffNote(p: { cause: string; pushedSha: string | null; kept: string | null; branch: string; lastWords: string; earlier: string }): string {
  const where = p.pushedSha
    ? `The work so far is committed as WIP and pushed to ${p.branch} (${p.pushedSha.slice(0, 7)}).`
    : p.kept
      ? `The work so far is committed as WIP (${p.kept.slice(0, 7)}) and kept on the worker that ran it; a run there starts from it.`
      : "Nothing had changed yet.";
  return [
    `Interrupted by ${p.cause}. ${where} Continue from there: check what is already done (git log, git diff) before doing anything again.`,
    p.lastWords.trim() && `Last words before the interruption:\n${p.lastWords.trim()}`,
    p.earlier && `The hand-off note of the run before:\n${p.earlier}`,
  ]
    .filter(Boolean)
    .join("\n\n");
}

/** A short, human description of what ended a run. */
function causeOf(err: unknown): string {
  if (err instanceof LeaseLostError) return `a lost lease (${err.message})`;
  const message = err instanceof Error ? err.message : String(err);
  return message.split("\n")[0]?.slice(0, 300) ?? "an error";
}

/**
 * A push the remote refused (a protected file such as a workflow without the permission, a
 * signed-commit rule, a pre-receive hook) will be refused again: it fails the job for good with
 * the remote's own words. Anything else (the network) is worth a retry.
 */
export function pushFailure(err: Error): Error {
  const text = err.message;
  const rejected = /\[remote rejected\][^\n]*\(([^\n]+)\)/.exec(text)?.[1];
  // A hook's own words ("remote: …") say more than git's "(pre-receive hook declined)".
  const hook = /remote: (?:error: )?([^\n]*\S[^\n]*)/.exec(text)?.[1];
  const generic = !rejected || /hook declined/.test(rejected);
  const refused = rejected || /protected branch|GH\d{3}|refusing to allow/i.test(text) ? ((generic ? hook : null) ?? rejected ?? "the remote declined it") : null;
  if (!refused) return err;
  return unrecoverable(
    `push rejected: ${refused}. The agent's work is committed and kept on the worker; fix what the remote requires (for a workflow file, give the token or App the workflows permission) and re-add the label to push it without running the agent again.`,
    err,
  );
}
