import type { AnthropicFakeOptions, ScriptedTurn } from "../fakes/anthropic/index.js";
import { activitiesOf, type FakeAgentActivity } from "../fakes/linear/agent-sessions.js";
import { delegateIssue, mentionAgent, promptSession } from "../fakes/linear/agent-webhooks.js";
import type { FakeIssue } from "../fakes/linear/index.js";
import { say } from "./turns.js";
import type { World } from "./world.js";

/**
 * Model turns per issue: the Anthropic fake's `intercept` answers each run from the turns of the
 * issue its first message names, by how many turns that run has taken, so agents of several
 * issues running at once each follow their own script.
 */
export function turnsByIssue(): { plans: Map<string, ScriptedTurn[]>; intercept: NonNullable<AnthropicFakeOptions["intercept"]> } {
  const plans = new Map<string, ScriptedTurn[]>();
  const intercept: NonNullable<AnthropicFakeOptions["intercept"]> = (req) => {
    const first = String(req?.messages?.[0]?.content?.[0]?.text ?? "");
    if (!first.startsWith("Implement this Linear issue")) return undefined;
    for (const [title, turns] of plans) {
      if (!first.includes(`<title>${title}</title>`)) continue;
      const taken = (req.messages as Array<{ role: string }>).filter((m) => m.role === "assistant").length;
      return turns[taken] ?? say("## Summary\nDone.");
    }
    return undefined;
  };
  return { plans, intercept };
}

/** Delegates `issue` to the agent in the fake and sends Linear's signed `created` through the route. */
export async function delegate(w: World, issue: FakeIssue) {
  const { sessionId, payload } = delegateIssue(w.linear.store, { issueId: issue.id });
  const res = await w.sendLinear(payload);
  return { sessionId, payload, res };
}

/** @mentions the agent (in a thread when given) and sends `created`. */
export async function mention(w: World, issue: FakeIssue, body: string, thread?: string[]) {
  const { sessionId, payload } = mentionAgent(w.linear.store, { issueId: issue.id, body, thread });
  return { sessionId, payload, res: await w.sendLinear(payload) };
}

/** A human writes in the session (or presses Stop), and Linear sends `prompted`. */
export async function prompt(w: World, sessionId: string, body: string, signal?: "stop") {
  const payload = promptSession(w.linear.store, { sessionId, body, signal });
  return { payload, res: await w.sendLinear(payload) };
}

/** The session's agent activities (not the humans' prompts), in order, including replaced ephemeral ones. */
export function agentActivities(w: World, sessionId: string): FakeAgentActivity[] {
  return activitiesOf(w.linear.store, sessionId, { includeReplaced: true }).filter((a) => a.content.type !== "prompt");
}

/** The activities of one content type. */
export function ofType(w: World, sessionId: string, type: string): FakeAgentActivity[] {
  return agentActivities(w, sessionId).filter((a) => a.content.type === type);
}
