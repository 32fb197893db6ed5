import { PLAN_TOOL } from "../agent/split-plan.js";
import { TRIAGE_TOOL } from "../agent/triage.js";
import { demoAgentTurn } from "./scripted-agent.js";

// The demo's model: answers triage's and the manager's forced tool calls per issue (by title),
// and every other call with the scripted agent's next turn. Each answer takes `turnMs`, as a
// model's would, so the dashboard has agents at work to show.

/** Request bodies are arbitrary JSON here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the Messages request as sent, read loosely
type Json = any;
type Turn = ReturnType<typeof demoAgentTurn>;

const call = (name: string, input: unknown): Turn => ({ content: [{ type: "tool_use", name, input }] });

/** Triage's verdicts for the demo's three issues; sub-issues (and answered questions) are ready. */
const VERDICTS: Record<string, Json> = {
  "Greet people by name": {
    verdict: "ready",
    size: "small",
    rationale: "A small, clear change to greet.js with an obvious check.",
    criteria: ["`greet('Ada')` returns `Hello, Ada!`", "`greet()` still says `Hello, world!`", "`node test.js` passes"],
  },
  "Say goodbye too": {
    verdict: "clarify",
    size: "small",
    rationale: "The wording and the place of the farewell are not decided; a guess would likely be redone.",
    criteria: ["A farewell function exists and is tested", "`node test.js` passes"],
    questions: ["Should the farewell say `Goodbye, <name>!` or just `Bye!`?", "Should it live in greet.js or in a file of its own?"],
  },
  "Greet in French and Spanish": {
    verdict: "split",
    size: "large",
    rationale: "Two independent translations and a language picker that builds on both: three parts separate agents can do and review.",
    criteria: ["French and Spanish greetings exist", "LANG picks the language, English by default", "`node test.js` passes"],
  },
};

const PLAN = {
  goal: "Greet people in French and Spanish as well as English, choosing the language from LANG (English by default), without changing greet()'s behaviour.",
  interfaces: "- fr.js exports `greetFr(name)` → `Bonjour, <name> !`\n- es.js exports `greetEs(name)` → `¡Hola, <name>!`\n- pick.js exports `greetIn(lang, name)`: fr/es by LANG's first two letters, else `greet(name)`",
  subtasks: [
    { key: "s1", title: "French greeting", brief: "Add fr.js exporting `greetFr(name)` that returns `Bonjour, <name> !`.", criteria: ["greetFr('Ada') is `Bonjour, Ada !`"], owns: ["fr.js"], dependsOn: [] },
    { key: "s2", title: "Spanish greeting", brief: "Add es.js exporting `greetEs(name)` that returns `¡Hola, <name>!`.", criteria: ["greetEs('Ada') is `¡Hola, Ada!`"], owns: ["es.js"], dependsOn: [] },
    {
      key: "s3",
      title: "Pick the greeting's language",
      brief: "Add pick.js exporting `greetIn(lang, name)`: French or Spanish by LANG's first two letters (using fr.js and es.js), English otherwise.",
      criteria: ["greetIn('fr_FR', 'Ada') is French", "greetIn('de', 'Ada') is English"],
      owns: ["pick.js"],
      dependsOn: ["s1", "s2"],
    },
  ],
};

/** The tool a request forces (or its only tool, for a model that cannot be forced). */
function forcedTool(req: Json): string | undefined {
  if (req?.tool_choice?.type === "tool") return req.tool_choice.name;
  const tools = Array.isArray(req?.tools) ? req.tools : [];
  return tools.length === 1 ? tools[0]?.name : undefined;
}

/** The title in a triage or planning request (the user message's `<title>`). */
function titleOf(req: Json): string {
  const text = JSON.stringify(req?.messages?.[0]?.content ?? "");
  return /<title>(.*?)<\/title>/.exec(text)?.[1] ?? "";
}

/** The demo model as an `intercept` of the Anthropic stand-in: every request answered here. */
export function demoModel(p: { turnMs: number }): (req: Json) => Turn {
  const slow = (t: Turn): Turn => ({ ...t, delayMs: p.turnMs });
  return (req) => {
    const tool = forcedTool(req);
    if (tool === TRIAGE_TOOL) {
      const answered = JSON.stringify(req?.messages ?? "").includes("<answer");
      const v = VERDICTS[titleOf(req)];
      const ready = { verdict: "ready", size: "small", rationale: "Clear and small: one agent can do it.", criteria: ["The brief's criteria are met", "`node test.js` passes"] };
      const chosen = !v || (answered && v.verdict === "clarify") ? { ...ready, ...(v ? { criteria: v.criteria } : {}) } : v;
      return slow(call(TRIAGE_TOOL, { questions: [], ...chosen }));
    }
    if (tool === PLAN_TOOL) return slow(call(PLAN_TOOL, PLAN));
    return slow(demoAgentTurn(req));
  };
}
