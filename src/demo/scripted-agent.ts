// The demo's stand-in for the model: a fixed little plan per issue, chosen from the conversation,
// answered through the same Messages protocol and tools a real model uses.

type Block = { type: "text"; text: string } | { type: "tool_use"; name: string; input: unknown };
type Turn = { content: Block[]; delayMs?: number };

const tool = (name: string, input: unknown): Turn => ({ content: [{ type: "tool_use", name, input }] });
const say = (text: string): Turn => ({ content: [{ type: "text", text }] });
const create = (path: string, fileText: string) => tool("str_replace_based_edit_tool", { command: "create", path: `/repo/${path}`, file_text: fileText });
const view = (path: string) => tool("str_replace_based_edit_tool", { command: "view", path: `/repo/${path}` });
const bash = (command: string) => tool("bash", { command });

/** An agent's report, with the acceptance-criteria section the prompt asks for. */
function report(p: { summary: string; files: string; decisions?: string; criteria: string[] }): Turn {
  const met = p.criteria.map((c, i) => `${i + 1}. met: ${c}`).join("\n");
  return say(`## Summary\n${p.summary}\n## Files\n${p.files}\n## Decisions\n${p.decisions ?? "none"}\n## Open points\nnone\n## Acceptance criteria\n${met}`);
}

const run = (module: string, fn: string) => bash(`node test.js && node -e "import('./${module}').then((m) => console.log(m.${fn}('Ada')))"`);

/** The agent's turns per issue title (the prompt's first `<title>`). */
const WORK: Record<string, Turn[]> = {
  "Greet people by name": [
    view("greet.js"),
    create("greet.js", 'export function greet(name = "world") {\n  return `Hello, ${name}!`;\n}\n'),
    bash("node test.js"),
    report({
      summary: '`greet(name)` now greets people by name and falls back to "world".',
      files: "greet.js",
      decisions: "Kept the function's signature backward compatible with a default.",
      criteria: ["`node -e` prints Hello, Ada!", "greet() says Hello, world!", "node test.js passes"],
    }),
  ],
  "Say goodbye too": [
    view("greet.js"),
    create("farewell.js", 'export function farewell(name = "world") {\n  return `Goodbye, ${name}!`;\n}\n'),
    run("farewell.js", "farewell"),
    report({ summary: "Added `farewell(name)` in farewell.js, worded as Ada answered: `Goodbye, <name>!`.", files: "farewell.js", criteria: ["farewell.js prints Goodbye, Ada!", "node test.js passes"] }),
  ],
  "French greeting": [
    create("fr.js", "export function greetFr(name) {\n  return `Bonjour, ${name} !`;\n}\n"),
    run("fr.js", "greetFr"),
    report({ summary: "fr.js exports `greetFr(name)`: `Bonjour, <name> !` (French puts a space before the `!`).", files: "fr.js", criteria: ["greetFr('Ada') is Bonjour, Ada !", "node test.js passes"] }),
  ],
  "Spanish greeting": [
    create("es.js", "export function greetEs(name) {\n  return `¡Hola, ${name}!`;\n}\n"),
    run("es.js", "greetEs"),
    report({ summary: "es.js exports `greetEs(name)`: `¡Hola, <name>!`.", files: "es.js", criteria: ["greetEs('Ada') is ¡Hola, Ada!", "node test.js passes"] }),
  ],
  "Pick the greeting's language": [
    bash("ls && cat fr.js es.js"),
    create(
      "pick.js",
      'import { greet } from "./greet.js";\nimport { greetFr } from "./fr.js";\nimport { greetEs } from "./es.js";\n\nconst BY_LANG = { fr: greetFr, es: greetEs };\n\n/** Greets in the language of a locale such as LANG (its first two letters), English by default. */\nexport function greetIn(lang = "", name = "world") {\n  return (BY_LANG[lang.slice(0, 2)] ?? greet)(name);\n}\n',
    ),
    bash(`node test.js && node -e "import('./pick.js').then((m) => console.log(m.greetIn('fr_FR', 'Ada'), m.greetIn('es', 'Ada')))"`),
    report({ summary: "pick.js exports `greetIn(lang, name)`, built on the merged fr.js and es.js; English is the default.", files: "pick.js", criteria: ["greetIn('fr_FR', 'Ada') is French", "node test.js passes"] }),
  ],
};

function revision(feedbackIds: string[]): Turn[] {
  return [
    create("greet.js", 'export function greet(name = "world") {\n  return `Hello, ${String(name).trim() || "world"}!`;\n}\n'),
    bash("node test.js"),
    say(
      `## Summary\nNames are trimmed now, and a blank name falls back to "world".\n## Files\ngreet.js\n## Decisions\nnone\n## Open points\nnone\n## Replies\n${feedbackIds.map((id) => `- ${id}: Done: the name is trimmed before greeting.`).join("\n")}`,
    ),
  ];
}

/** Picks the next turn of the demo agent from the request the service sent. */
export function demoAgentTurn(req: { messages: Array<{ role: string; content: unknown }> }): Turn {
  const first = JSON.stringify(req.messages[0]?.content ?? "");
  const step = req.messages.filter((m) => m.role === "assistant").length;
  const title = /<title>(.*?)<\/title>/.exec(first)?.[1] ?? "";
  const plan = first.includes("Reviewers asked for changes")
    ? revision([...first.matchAll(/feedback id=\\"(\d+)\\"/g)].map((m) => m[1] as string))
    : (WORK[title] ?? [say("## Summary\nNothing to do for this issue in the demo.\n## Files\nnone\n## Decisions\nnone\n## Open points\nnone")]);
  return plan[Math.min(step, plan.length - 1)] as Turn;
}

/** The sample repository the demo agent works on. */
export const DEMO_REPO_FILES: Record<string, string> = {
  "package.json": '{ "name": "demo-app", "private": true, "type": "module" }\n',
  "greet.js": 'export function greet() {\n  return "Hello!";\n}\n',
  "test.js": 'import assert from "node:assert/strict";\nimport { greet } from "./greet.js";\n\nassert.equal(typeof greet("Ada"), "string");\nconsole.log("tests passed");\n',
  "README.md": "# demo-app\n\nA tiny app the agent-workforce demo works on. Run the tests with `node test.js`.\n",
};
