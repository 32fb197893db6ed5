import { getEventListeners } from "node:events";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAnthropic } from "../../src/agent/anthropic-client.js";
import { AnthropicRunner } from "../../src/agent/anthropic-runner.js";
import { commandStop } from "../../src/agent/checks.js";
import { createDrain } from "../../src/agent/drain.js";
import type { AgentSession } from "../../src/agent/runner.js";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic/index.js";
import { bash, say } from "../helpers/turns.js";
import { plainJail } from "../helpers/jail.js";

// One drain signal serves every agent of a worker process: each waiting agent listens on it once
// and stops listening when its wait ends. Under load (more than 10 agents at once) Node warned
// "MaxListenersExceededWarning: 11 abort listeners added to [AbortSignal]".
const PATH = "/usr/local/bin:/usr/bin:/bin";
let fake: AnthropicFake;
let tmp: string;
let warnings: Error[];
const sessions: AgentSession[] = [];
const onWarning = (w: Error) => warnings.push(w);

beforeEach(async () => {
  fake = await startAnthropicFake();
  tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), "awf-drain-listeners-")));
  warnings = [];
  process.on("warning", onWarning);
});
afterEach(async () => {
  process.off("warning", onWarning);
  await Promise.all(sessions.splice(0).map((s) => s.close()));
  await fake.close();
  await rm(tmp, { recursive: true, force: true });
});

const abortListeners = (signal: AbortSignal) => getEventListeners(signal, "abort").length;

/**
 * The leak warnings raised so far. Process warnings arrive on a later tick, in order, so once a
 * canary raised now has arrived, every earlier one has too.
 */
async function leakWarnings(): Promise<Error[]> {
  const canary = `a canary of the drain listener test (${Math.random()}): the warnings before it have arrived`;
  process.emitWarning(canary, "TestCanary");
  await until("the canary warning", () => warnings.some((w) => w.message === canary));
  return warnings.filter((w) => w.name === "MaxListenersExceededWarning");
}

function start(dir: string, signal: AbortSignal, drain: AbortSignal, onCallStart?: () => void): AgentSession {
  const runner = new AnthropicRunner({
    client: createAnthropic({ apiKey: fake.apiKey, baseUrl: fake.url, maxRetries: 0 }),
    model: "claude-sonnet-4-6",
    maxTokens: 1024,
    commandEnv: { PATH },
    commandTimeoutMs: 30_000,
  });
  const s = runner.startSession({ worktree: dir, system: "You are a coding agent.", jail: plainJail(dir), limits: { maxTurns: 10, budgetUsd: 5 }, signal, drain, onCallStart });
  sessions.push(s);
  return s;
}

async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what} never happened`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("the drain's abort listeners", () => {
  it("a command's stop leaves no listener on the drain or the job's signal once disposed, however many ran", () => {
    const drain = createDrain(2);
    const cancel = new AbortController();
    for (let i = 0; i < 1_000; i++) {
      const stop = commandStop(cancel.signal, drain.signal);
      expect(abortListeners(drain.signal)).toBe(1);
      stop.dispose();
    }
    expect(abortListeners(drain.signal)).toBe(0);
    expect(abortListeners(cancel.signal)).toBe(0);
  });

  it("takes one waiter per agent of AGENT_CONCURRENCY without a leak warning, where a plain signal warns at 11", async () => {
    const agents = 50;
    const drain = createDrain(agents);
    const stops = Array.from({ length: agents }, () => commandStop(new AbortController().signal, drain.signal));
    expect(abortListeners(drain.signal)).toBe(agents);
    // The same waiters on a signal with Node's default limit: the warning this test looks for does come.
    const plain = new AbortController();
    const plainStops = Array.from({ length: 11 }, () => commandStop(new AbortController().signal, plain.signal));
    const warned = await leakWarnings();
    expect(warned).toHaveLength(1);
    expect(warned[0]?.message).toMatch(/11 abort listeners added to \[AbortSignal\]/);
    for (const s of [...stops, ...plainStops]) s.dispose();
    expect(abortListeners(drain.signal)).toBe(0);
  });

  it("more than 10 agents waiting on their model calls at once hold one listener each, and none once they end", async () => {
    const agents = 12;
    // Each agent runs a command, then waits on a held model call that ends its run.
    const turn = (req: { messages: unknown[] }) => (req.messages.length === 1 ? bash("true") : { ...say("Done."), delayMs: 1_000 });
    fake.script(Array.from({ length: agents * 2 }, () => turn));
    const drain = createDrain(agents);
    const cancels = Array.from({ length: agents }, () => new AbortController());
    const dirs = await Promise.all(cancels.map((_, i) => mkdtemp(path.join(tmp, `agent-${i}-`))));
    const runs = cancels.map((c, i) => start(dirs[i] as string, c.signal, drain.signal).send("Do it."));
    await until("every agent's held model call", () => fake.requests.filter((r) => r.body.messages.length === 3).length === agents);
    expect(abortListeners(drain.signal)).toBe(agents);
    const outcomes = await Promise.all(runs);
    expect(outcomes.map((o) => o.stop)).toEqual(Array(agents).fill("done"));
    expect(abortListeners(drain.signal)).toBe(0);
    expect(cancels.map((c) => abortListeners(c.signal))).toEqual(Array(agents).fill(0));
    expect(await leakWarnings()).toEqual([]);
  });

  it("a model call whose start hook fails leaves no listener behind", async () => {
    fake.script([say("not reached")]);
    const drain = createDrain(2);
    const cancel = new AbortController();
    const s = start(tmp, cancel.signal, drain.signal, () => {
      throw new Error("the in-flight mark failed");
    });
    await expect(s.send("Do it.")).rejects.toThrow("the in-flight mark failed");
    expect(abortListeners(drain.signal)).toBe(0);
    expect(abortListeners(cancel.signal)).toBe(0);
  });
});
