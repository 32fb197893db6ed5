import { existsSync } from "node:fs";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { UnrecoverableError } from "bullmq";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { classifyFailure } from "../../jobs/failures.js";
import { createAnthropic } from "../../src/agent/anthropic-client.js";
import { AnthropicRunner } from "../../src/agent/anthropic-runner.js";
import { AgentStopError, runWithChecks } from "../../src/agent/run-with-checks.js";
import type { AgentSession } from "../../src/agent/runner.js";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic/index.js";
import { bash, create, say } from "../helpers/turns.js";
import { plainJail } from "../helpers/jail.js";

const PATH = "/usr/local/bin:/usr/bin:/bin";
let fake: AnthropicFake;
let tmp: string;
let session: AgentSession | undefined;

beforeEach(async () => {
  fake = await startAnthropicFake();
  tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), "awf-runner-")));
});
afterEach(async () => {
  await session?.close();
  session = undefined;
  await fake.close();
  await rm(tmp, { recursive: true, force: true });
});

function start(limits = { maxTurns: 10, budgetUsd: 5 }): AgentSession {
  const runner = new AnthropicRunner({
    client: createAnthropic({ apiKey: fake.apiKey, baseUrl: fake.url, maxRetries: 0 }),
    model: "claude-sonnet-4-6",
    maxTokens: 1024,
    commandEnv: { PATH },
    commandTimeoutMs: 10_000,
  });
  session = runner.startSession({
    worktree: tmp,
    system: "You are a coding agent.",
    jail: plainJail(tmp),
    limits,
    signal: new AbortController().signal,
  });
  return session;
}

/** Request bodies are arbitrary JSON here. */
type Json = any;
const lastMessage = (i: number): Json => fake.requests[i]?.body.messages.at(-1);

describe("AnthropicRunner stop reasons against the fake Messages API", () => {
  it("does not run a tool call cut off by max_tokens, answers it with an error, and goes on", async () => {
    fake.script([
      {
        content: [
          { type: "text", text: "Two commands." },
          { type: "tool_use", id: "toolu_done", name: "bash", input: { command: "touch whole" } },
          { type: "tool_use", id: "toolu_cut", name: "bash", input: { command: "touch cut" } },
        ],
        stop_reason: "max_tokens",
      },
      { ...create("big.txt", "half a fi"), stop_reason: "max_tokens" },
      say("Done after all."),
    ]);
    const outcome = await start().send("Do it.");

    expect(outcome.stop).toBe("done");
    expect(outcome.finalText).toBe("Done after all.");
    expect(existsSync(path.join(tmp, "whole"))).toBe(true);
    expect(existsSync(path.join(tmp, "cut"))).toBe(false);
    expect(existsSync(path.join(tmp, "big.txt"))).toBe(false);
    expect(fake.requests).toHaveLength(3);

    const answers = lastMessage(1);
    expect(answers.role).toBe("user");
    // Both calls answered, then the note of what is left of the limits.
    expect(answers.content).toHaveLength(3);
    expect(answers.content[2]).toMatchObject({ type: "text", text: expect.stringMatching(/^\[limits\] \d+ of 10 turns and \$[\d.]+ of \$5\.00 left\.$/) });
    expect(answers.content[0]).toMatchObject({ type: "tool_result", tool_use_id: "toolu_done" });
    expect(answers.content[0].is_error).toBeUndefined();
    expect(answers.content[1]).toMatchObject({ type: "tool_result", tool_use_id: "toolu_cut", is_error: true });
    expect(answers.content[1].content).toMatch(/output limit.*smaller pieces/s);

    const editAnswer = lastMessage(2).content;
    expect(editAnswer).toHaveLength(2);
    expect(editAnswer[1]).toMatchObject({ type: "text" });
    expect(editAnswer[0]).toMatchObject({ type: "tool_result", is_error: true });
    expect(editAnswer[0].content).toMatch(/max_tokens/);
  });

  it("ends with a refusal, runs no tool from the refused reply and leaves it out of the history", async () => {
    fake.script([
      bash("touch before"),
      {
        content: [
          { type: "text", text: "Sure, here" },
          { type: "tool_use", name: "bash", input: { command: "touch refused" } },
        ],
        stop_reason: "refusal",
        stop_details: { category: "cyber", explanation: "This request could enable cyber harm." },
      },
    ]);
    const s = start();
    const outcome = await s.send("Write an exploit.");

    expect(outcome.stop).toBe("refusal");
    expect(outcome.stopDetail).toBe("category cyber: This request could enable cyber harm.");
    expect(outcome.turns).toBe(2);
    expect(existsSync(path.join(tmp, "before"))).toBe(true);
    expect(existsSync(path.join(tmp, "refused"))).toBe(false);

    // The API keeps refusing until the refused turn is gone; a later message must also be valid.
    await s.send("Something else.");
    const messages: Json[] = fake.requests[2]?.body.messages;
    expect(JSON.stringify(messages)).not.toContain("Sure, here");
    expect(messages.at(-1).role).toBe("user");
  });

  it("makes runWithChecks fail a refusal without running the checks, and the failure is not retried", async () => {
    fake.script([{ content: [{ type: "text", text: "No." }], stop_reason: "refusal" }]);
    const signal = new AbortController().signal;
    const err = await runWithChecks({
      session: start(),
      firstMessage: "Do it.",
      checkCommand: "touch checked",
      rounds: 2,
      cwd: tmp, jail: plainJail(tmp),
      env: { PATH },
      checkTimeoutMs: 10_000,
      signal,
    }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AgentStopError);
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect((err as AgentStopError).outcome.stop).toBe("refusal");
    expect((err as Error).message).toMatch(/declined.*"refusal".*no pull request was opened.*not retried/s);
    expect(existsSync(path.join(tmp, "checked"))).toBe(false);

    const failure = classifyFailure(err, { attemptsMade: 0, opts: { attempts: 3 } }, signal);
    expect(failure).toMatchObject({ retry: false, cancelled: false, message: (err as Error).message });
  });

  it("fails the run when the first reply fills the context window: there is nothing to compact", async () => {
    fake.script([
      { content: [{ type: "tool_use", name: "bash", input: { command: "touch overflow" } }], stop_reason: "model_context_window_exceeded" },
    ]);
    const err = await runWithChecks({
      session: start(),
      firstMessage: "Do it.",
      checkCommand: undefined,
      rounds: 0,
      cwd: tmp, jail: plainJail(tmp),
      env: { PATH },
      checkTimeoutMs: 10_000,
      signal: new AbortController().signal,
    }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AgentStopError);
    expect((err as AgentStopError).outcome.stop).toBe("context-window");
    expect((err as Error).message).toMatch(/context window.*AGENT_MODEL/s);
    expect(existsSync(path.join(tmp, "overflow"))).toBe(false);
  });

  it("keeps empty replies out of the history, so later requests stay valid", async () => {
    fake.script([
      bash("echo hi"),
      { content: [] },
      { content: [{ type: "text", text: "  " }], stop_reason: "end_turn" },
      say("Fixed."),
    ]);
    const s = start();
    const first = await s.send("Do it.");
    expect(first.stop).toBe("done");
    const second = await s.send("The checks failed; fix them.");
    expect(second.stop).toBe("done");
    const third = await s.send("Anything else?");
    expect(third).toMatchObject({ stop: "done", finalText: "Fixed." });

    // Every request was accepted (the fake answers an empty assistant message with a 400).
    expect(fake.requests).toHaveLength(4);
    expect(fake.usages).toHaveLength(4);
    for (const { body } of fake.requests) {
      for (const m of body.messages as Json[]) {
        expect(m.content.length).toBeGreaterThan(0);
        for (const b of m.content) if (b.type === "text") expect(b.text.trim()).not.toBe("");
      }
    }
    const roles = (fake.requests[3]?.body.messages as Json[]).map((m) => m.role);
    expect(roles).toEqual(["user", "assistant", "user"]);
    expect(lastMessage(3).content.map((b: Json) => b.type)).toEqual(["tool_result", "text", "text", "text"]);
  });
});

describe("AnthropicRunner tells the model what is left of its limits", () => {
  it("says how many turns and dollars remain after each turn, and asks it to wrap up near the end", async () => {
    fake.script([bash("true"), bash("true"), say("## Summary\nDone; nothing is left.")]);
    const outcome = await start({ maxTurns: 4, budgetUsd: 5 }).send("Do it.");
    expect(outcome.stop).toBe("done");
    const notes = (fake.requests.at(-1)?.body.messages as Json[])
      .filter((m) => m.role === "user")
      .flatMap((m) => (m.content as Json[]).filter((b) => b.type === "text" && String(b.text).startsWith("[limits]")).map((b) => String(b.text)));
    expect(notes).toHaveLength(2);
    // Every model call is streamed.
    expect(fake.requests.map((r) => r.body.stream)).toEqual([true, true, true]);
    expect(notes[0]).toMatch(/^\[limits\] 3 of 4 turns and \$[\d.]+ of \$5\.00 left\.$/);
    expect(notes[1]).toMatch(/^\[limits\] 2 of 4 turns .* You are about to run out: start nothing new\..*Open points/);
  });
});
