import { setMaxListeners } from "node:events";

/**
 * Listeners the drain may hold beyond one per agent before Node warns of a leak: room for a few
 * process-wide waiters, while a listener that is never removed still shows after a few jobs.
 */
const SPARE_LISTENERS = 10;

/**
 * The process's drain (aborted when it shuts down), sized for `agents` agents at once. Each
 * running agent listens on it once while it waits for a model call, a command or a check
 * (`commandStop`, `runQuery`) and removes the listener when that wait ends, so AGENT_CONCURRENCY
 * listeners at once are legitimate; Node's default limit of 10 called the 11th a possible leak.
 */
export function createDrain(agents: number): AbortController {
  const drain = new AbortController();
  setMaxListeners(agents + SPARE_LISTENERS, drain.signal);
  return drain;
}
