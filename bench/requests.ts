/* eslint-disable no-console -- a benchmark prints its results as tables */
// npm run bench:requests [-- --turns N --turn-seconds S]: the Linear and GitHub requests of one
// implement task end to end (real server, queues, workers, git and SDK clients against the
// loopback fakes, a scripted model), counted from the fakes' request logs by operation, on the
// label path (progress comment) and on the session path (delegation: agent session activities).
import { parseArgs } from "node:util";
import type { LinearFakeRequest } from "../test/fakes/linear/index.js";
import { delegate, ofType } from "../test/helpers/sessions.js";
import { bash, create, edit, say } from "../test/helpers/turns.js";
import { startWorld, type World } from "../test/helpers/world.js";

const { values } = parseArgs({
  options: {
    turns: { type: "string", default: "12" },
    "turn-seconds": { type: "string", default: "0" },
  },
});
const TURNS = Number(values.turns);
const TURN_SECONDS = Number(values["turn-seconds"]);
const GOAL = 40;
const REPORT = "## Summary\ngreet.txt now says hello, world.\n## Files\ngreet.txt\n## Decisions\nnone\n## Open points\nnone";

/** A task of `TURNS` model turns: reading, commands (each `TURN_SECONDS` long), the edit, the checks, the report. */
function script() {
  const work = Array.from({ length: Math.max(0, TURNS - 4) }, (_, i) =>
    i % 2 === 0 ? edit({ command: "view", path: "/repo/greet.txt" }) : bash(TURN_SECONDS > 0 ? `sleep ${TURN_SECONDS}; echo step ${i}` : `echo step ${i}`),
  );
  return [...work, create("greet.txt", "hello, world\n"), bash("sh check.sh && echo ok"), edit({ command: "view", path: "/repo/greet.txt" }), say(REPORT)];
}

interface Counted {
  linear: Map<string, number>;
  github: Map<string, number>;
  seconds: number;
}

/** One task through the service on one path; counts every request the fakes received for it. */
async function runPath(path: "label" | "session"): Promise<Counted> {
  const world = await startWorld({ env: { LOG_LEVEL: "warn" } });
  try {
    const issue = world.newIssue(path === "label" ? {} : { labels: [] });
    world.anthropic.script(script());
    world.linear.requests.length = 0;
    world.github.requests.length = 0;
    const started = Date.now();
    if (path === "label") {
      const res = await world.labelIssue(issue);
      await expectCompleted(world, res.body.jobId as string);
    } else {
      const { sessionId, res } = await delegate(world, issue);
      await expectCompleted(world, res.body.jobId as string);
      await world.waitFor(() => ofType(world, sessionId, "response").length > 0, "the session's response", 30_000);
    }
    // Nothing is left in flight: the ack queue and the job's last publish have answered.
    await world.waitFor(async () => (await world.deps.queues.ack.getActiveCount()) === 0, "the ack queue to settle");
    return { linear: byLinearOperation(world.linear.requests), github: byGitHubRoute(world), seconds: (Date.now() - started) / 1000 };
  } finally {
    await world.close();
  }
}

async function expectCompleted(world: World, jobId: string): Promise<void> {
  const outcome = await world.waitForJob(jobId, "implement", 10 * 60_000);
  if (outcome !== "completed") throw new Error(`the implement job ${outcome}: ${(await world.deps.tasks.get((await world.deps.queues.implement.getJob(jobId))?.data.issueId ?? ""))?.error}`);
}

/** Operation names, with the activity type or the kind of session update, since those differ in cost. */
function byLinearOperation(requests: LinearFakeRequest[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of requests) {
    const input = (r.variables.input ?? {}) as Record<string, unknown>;
    let name = r.operationName ?? "(unnamed)";
    if (name === "createAgentActivity") name += ` (${String((input.content as { type?: string } | undefined)?.type)}${input.ephemeral ? ", ephemeral" : ""})`;
    if (name === "updateAgentSession") name += ` (${Object.keys(input).sort().join(", ")})`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/** METHOD and path, with numbers and shas folded, so repeated calls to one route add up. */
function byGitHubRoute(world: World): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of world.github.requests) {
    const route = `${r.method} ${r.path.replace(/\/[0-9a-f]{40}\b/g, "/{sha}").replace(/\/\d+\b/g, "/{n}")}`;
    counts.set(route, (counts.get(route) ?? 0) + 1);
  }
  return counts;
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

function table(title: string, label: Map<string, number>, session: Map<string, number>) {
  const names = [...new Set([...label.keys(), ...session.keys()])].sort();
  console.log(`\n${title}`);
  console.table([
    ...names.map((n) => ({ operation: n, "label path": label.get(n) ?? 0, "session path": session.get(n) ?? 0 })),
    { operation: "TOTAL", "label path": total(label), "session path": total(session) },
  ]);
}

console.log(`one implement task of ${TURNS} model turns${TURN_SECONDS > 0 ? `, each command ${TURN_SECONDS} s` : ""}, end to end through the service (loopback fakes)`);
const label = await runPath("label");
const session = await runPath("session");
table("Linear requests by operation", label.linear, session.linear);
table("GitHub requests by route", label.github, session.github);
console.log(`run time: label path ${label.seconds.toFixed(1)} s, session path ${session.seconds.toFixed(1)} s`);
for (const [path, c] of [["label", label], ["session", session]] as const) {
  const n = total(c.linear);
  console.log(`${n <= GOAL ? "MET   " : "MISSED"} ${path} path: ${n} Linear requests per implement task (goal ≤ ${GOAL})`);
}
process.exit(0);
