import { existsSync } from "node:fs";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAnthropic } from "../../src/agent/anthropic-client.js";
import { AnthropicRunner } from "../../src/agent/anthropic-runner.js";
import { runChecks } from "../../src/agent/checks.js";
import { runWithChecks } from "../../src/agent/run-with-checks.js";
import type { AgentSession, RunOutcome } from "../../src/agent/runner.js";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic/index.js";
import { validateRequest } from "../fakes/anthropic/validate.js";
import { bash, say } from "../helpers/turns.js";
import { plainJail } from "../helpers/jail.js";

// A worker shutdown (the drain) must not wait out a long check or command: the container's stop
// grace period is far shorter than their timeouts. They get DRAIN_GRACE_MS (3 s), then are killed.
const PATH = "/usr/local/bin:/usr/bin:/bin";
const LONG = 60_000;
let fake: AnthropicFake;
let tmp: string;
let session: AgentSession | undefined;

beforeEach(async () => {
  fake = await startAnthropicFake();
  tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), "awf-drain-")));
});
afterEach(async () => {
  await session?.close();
  session = undefined;
  await fake.close();
  await rm(tmp, { recursive: true, force: true });
});

function start(signal: AbortSignal, drain: AbortSignal): AgentSession {
  const runner = new AnthropicRunner({
    client: createAnthropic({ apiKey: fake.apiKey, baseUrl: fake.url, maxRetries: 0 }),
    model: "claude-sonnet-4-6",
    maxTokens: 1024,
    commandEnv: { PATH },
    commandTimeoutMs: LONG,
  });
  session = runner.startSession({ worktree: tmp, system: "You are a coding agent.", jail: plainJail(tmp), limits: { maxTurns: 10, budgetUsd: 5 }, signal, drain });
  return session;
}

/** Aborts `ctrl` once `file` exists in the worktree, i.e. once the long process is really running. */
async function abortWhenStarted(ctrl: AbortController, file: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (!existsSync(path.join(tmp, file))) {
    if (Date.now() > deadline) throw new Error(`${file} never appeared`);
    await new Promise((r) => setTimeout(r, 20));
  }
  ctrl.abort(new Error("shutting down"));
  return Date.now();
}

/** Resolves once the fake has received `n` model requests (the n-th call is in flight). */
async function requestsReceived(n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (fake.requests.length < n) {
    if (Date.now() > deadline) throw new Error(`model call ${n} never started`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A session whose agent always finishes at once, for the quality gate alone. */
function finishedSession(): AgentSession {
  const totals = { turns: 1, usage: { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 }, costUsd: 0 };
  return {
    send: async (): Promise<RunOutcome> => ({ stop: "done", finalText: "## Summary\nDone.", ...totals }),
    totals: () => totals,
    touchedFiles: () => [],
    close: async () => undefined,
  };
}

describe("the drain reaches running commands and checks", () => {
  it("kills a long bash command, answers every tool call, and ends the run as interrupted", async () => {
    fake.script([
      {
        content: [
          { type: "tool_use", id: "toolu_long", name: "bash", input: { command: "touch started && sleep 60" } },
          { type: "tool_use", id: "toolu_next", name: "bash", input: { command: "touch never" } },
        ],
      },
      say("not reached"),
    ]);
    const drain = new AbortController();
    const s = start(new AbortController().signal, drain.signal);
    const [outcome, abortedAt] = await Promise.all([s.send("Do it."), abortWhenStarted(drain, "started")]);

    expect(outcome.stop).toBe("interrupted");
    expect(Date.now() - abortedAt).toBeLessThan(5_000);
    expect(fake.requests).toHaveLength(1);
    expect(existsSync(path.join(tmp, "never"))).toBe(false);
    // The history stays a valid request: each tool_use has its tool_result.
    const messages = (s as unknown as { messages: unknown[] }).messages;
    expect(validateRequest({ model: "m", max_tokens: 1, messages }, { requireMaxTokens: true, strictAlternation: true })).toBeNull();
    const results = (messages.at(-1) as { content: Array<{ type: string; tool_use_id: string; content: string }> }).content.filter((b) => b.type === "tool_result");
    expect(results.map((r) => r.tool_use_id)).toEqual(["toolu_long", "toolu_next"]);
    expect(results[0]?.content).toMatch(/^Interrupted: the worker is shutting down/);
  });

  it("lets a quick command of the current turn finish within the grace and keeps its result", async () => {
    fake.script([bash("touch started && sleep 0.5 && echo finished > done.txt && cat done.txt"), say("not reached")]);
    const drain = new AbortController();
    const s = start(new AbortController().signal, drain.signal);
    const [outcome] = await Promise.all([s.send("Do it."), abortWhenStarted(drain, "started")]);
    expect(outcome.stop).toBe("interrupted");
    expect(existsSync(path.join(tmp, "done.txt"))).toBe(true);
    const messages = (s as unknown as { messages: Array<{ content: Array<{ content?: string }> }> }).messages;
    expect(messages.at(-1)?.content[0]?.content).toBe("finished");
  });

  it("aborts a model reply in flight after the grace, ends the run as interrupted and keeps the history valid", async () => {
    fake.script([bash("true"), { ...say("a very long reply"), delayMs: 30_000 }]);
    const drain = new AbortController();
    const s = start(new AbortController().signal, drain.signal);
    const sending = s.send("Do it.");
    // The second request is in flight once the fake has it.
    await requestsReceived(2);
    const abortedAt = Date.now();
    drain.abort(new Error("shutting down"));
    const outcome = await sending;

    expect(outcome.stop).toBe("interrupted");
    // The reply gets the drain's grace (3 s), not its 30 s.
    expect(Date.now() - abortedAt).toBeLessThan(6_000);
    expect(outcome.turns).toBe(1);
    expect(fake.usages).toHaveLength(1);
    const messages = (s as unknown as { messages: unknown[] }).messages;
    expect(validateRequest({ model: "m", max_tokens: 1, messages }, { requireMaxTokens: true, strictAlternation: true })).toBeNull();
  });

  it("a cancel aborts a model reply in flight at once", async () => {
    fake.script([{ ...say("a very long reply"), delayMs: 30_000 }]);
    const cancel = new AbortController();
    const s = start(cancel.signal, new AbortController().signal);
    const sending = s.send("Do it.");
    await requestsReceived(1);
    const abortedAt = Date.now();
    cancel.abort(new Error("stopped"));
    const outcome = await sending;
    expect(outcome.stop).toBe("aborted");
    expect(Date.now() - abortedAt).toBeLessThan(1_000);
  });

  it("a cancel during a command still ends the run as aborted", async () => {
    fake.script([bash("touch started && sleep 60")]);
    const cancel = new AbortController();
    const s = start(cancel.signal, new AbortController().signal);
    const [outcome, abortedAt] = await Promise.all([s.send("Do it."), abortWhenStarted(cancel, "started")]);
    expect(outcome.stop).toBe("aborted");
    expect(Date.now() - abortedAt).toBeLessThan(5_000);
  });

  it("kills a long check and ends the run as interrupted, reporting no check result", async () => {
    const drain = new AbortController();
    const reported: string[] = [];
    const run = runWithChecks({
      session: finishedSession(),
      firstMessage: "Do it.",
      checkCommand: "touch started && sleep 60",
      rounds: 2,
      cwd: tmp, jail: plainJail(tmp),
      env: { PATH },
      checkTimeoutMs: LONG,
      signal: new AbortController().signal,
      drain: drain.signal,
      onChecks: (phase) => void reported.push(phase),
    });
    const [gated, abortedAt] = await Promise.all([run, abortWhenStarted(drain, "started")]);
    expect(gated.outcome.stop).toBe("interrupted");
    expect(gated.checks).toBeNull();
    expect(gated.limitNote).toMatch(/interrupted by a worker shutdown/);
    expect(reported).toEqual(["start"]);
    expect(Date.now() - abortedAt).toBeLessThan(5_000);
  });

  it("a cancel during a check ends the run as aborted, even while draining", async () => {
    const cancel = new AbortController();
    const run = runWithChecks({
      session: finishedSession(),
      firstMessage: "Do it.",
      checkCommand: "touch started && sleep 60",
      rounds: 2,
      cwd: tmp, jail: plainJail(tmp),
      env: { PATH },
      checkTimeoutMs: LONG,
      signal: cancel.signal,
      drain: AbortSignal.timeout(LONG),
    });
    const [gated, abortedAt] = await Promise.all([run, abortWhenStarted(cancel, "started")]);
    expect(gated.outcome.stop).toBe("aborted");
    expect(Date.now() - abortedAt).toBeLessThan(5_000);
  });

  it("a draining worker starts no check after the agent's last turn", async () => {
    const gated = await runWithChecks({
      session: finishedSession(),
      firstMessage: "Do it.",
      checkCommand: "touch started",
      rounds: 2,
      cwd: tmp, jail: plainJail(tmp),
      env: { PATH },
      checkTimeoutMs: LONG,
      signal: new AbortController().signal,
      drain: AbortSignal.abort(),
    });
    expect(gated.outcome.stop).toBe("interrupted");
    expect(existsSync(path.join(tmp, "started"))).toBe(false);
  });

  it("a check given an already aborted signal does not start", async () => {
    const started = Date.now();
    const result = await runChecks({ cwd: tmp, command: "touch started && sleep 60", env: { PATH }, timeoutMs: LONG, signal: AbortSignal.abort() });
    expect(result).toMatchObject({ passed: false, interrupted: true, timedOut: false });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(existsSync(path.join(tmp, "started"))).toBe(false);
  });
});
