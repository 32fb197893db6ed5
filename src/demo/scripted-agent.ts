// The demo's stand-in for the model: a fixed little plan per run, chosen from the conversation,
// answered through the same Messages protocol and tools a real model uses.

type Turn = { content: Array<{ type: "text"; text: string } | { type: "tool_use"; name: string; input: unknown }> };

const tool = (name: string, input: unknown): Turn => ({ content: [{ type: "tool_use", name, input }] });
const say = (text: string): Turn => ({ content: [{ type: "text", text }] });

const IMPLEMENT: Turn[] = [
  tool("str_replace_based_edit_tool", { command: "view", path: "/repo/greet.js" }),
  tool("str_replace_based_edit_tool", {
    command: "create",
    path: "/repo/greet.js",
    file_text: 'export function greet(name = "world") {\n  return `Hello, ${name}!`;\n}\n',
  }),
  tool("bash", { command: "node test.js" }),
  say(
    "## Summary\n`greet(name)` now greets people by name and falls back to \"world\".\n## Files\ngreet.js\n## Decisions\nKept the function's signature backward compatible with a default.\n## Open points\nnone",
  ),
];

function revision(feedbackIds: string[]): Turn[] {
  return [
    tool("str_replace_based_edit_tool", {
      command: "create",
      path: "/repo/greet.js",
      file_text: 'export function greet(name = "world") {\n  return `Hello, ${String(name).trim() || "world"}!`;\n}\n',
    }),
    tool("bash", { command: "node test.js" }),
    say(
      `## Summary\nNames are trimmed now, and a blank name falls back to "world".\n## Files\ngreet.js\n## Decisions\nnone\n## Open points\nnone\n## Replies\n${feedbackIds.map((id) => `- ${id}: Done: the name is trimmed before greeting.`).join("\n")}`,
    ),
  ];
}

/** Picks the next turn of the demo agent from the request the service sent. */
export function demoAgentTurn(req: { messages: Array<{ role: string; content: unknown }> }): Turn {
  const first = JSON.stringify(req.messages[0]?.content ?? "");
  const step = req.messages.filter((m) => m.role === "assistant").length;
  const plan = first.includes("Reviewers asked for changes")
    ? revision([...first.matchAll(/feedback id=\\"(\d+)\\"/g)].map((m) => m[1] as string))
    : IMPLEMENT;
  return plan[Math.min(step, plan.length - 1)] as Turn;
}

/** The sample repository the demo agent works on. */
export const DEMO_REPO_FILES: Record<string, string> = {
  "package.json": '{ "name": "demo-app", "private": true, "type": "module" }\n',
  "greet.js": 'export function greet() {\n  return "Hello!";\n}\n',
  "test.js": 'import assert from "node:assert/strict";\nimport { greet } from "./greet.js";\n\nassert.equal(typeof greet("Ada"), "string");\nconsole.log("tests passed");\n',
  "README.md": "# demo-app\n\nA tiny app the agent-workforce demo works on. Run the tests with `node test.js`.\n",
};
