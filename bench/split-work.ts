// The scripted work of `npm run bench:split`: one piece of work in four parts, done either by
// four sub-issues (s1, s2 independent; s3, s4 depending on both) or by one task. Every model call
// (triage, the manager's plan, each agent turn) is answered from the request itself, so parallel
// children never take each other's turns, and each waits `turnMs` as a model would.
import type { ScriptedTurn } from "../test/fakes/anthropic/index.js";
import { answerCompaction } from "../test/helpers/long-task.js";
import { isPlanRequest, isTriageRequest, planTurn, triageTurn } from "../test/helpers/triage.js";
import { bash, create, edit, say } from "../test/helpers/turns.js";

/** Request bodies are arbitrary JSON here. */
type Json = any;

export const PARTS = ["s1", "s2", "s3", "s4"] as const;
export type Part = (typeof PARTS)[number];
const DEPENDS: Record<Part, Part[]> = { s1: [], s2: [], s3: ["s1", "s2"], s4: ["s1", "s2"] };
const AREA: Record<Part, string> = { s1: "parser", s2: "store", s3: "api", s4: "cli" };

/** The file a part's work adds (the bench checks each is in the merged result). */
export const partFile = (p: Part): string => `src/${AREA[p]}/index.js`;

/** Agent turns a task doing `parts` takes: per part its reads and the file it writes, then the report. */
export const turnsOf = (parts: number, reads: number): number => parts * (reads + 1) + 1;

/** A deterministic source file of about `chars` characters, as a real module would read. */
function sourceFile(area: string, n: number, chars: number): string {
  const lines: string[] = [`// ${area} module ${n}: part of the widgets ${area}.`];
  for (let i = 0; lines.join("\n").length < chars; i++)
    lines.push(`export function ${area}${n}Step${i}(input) {\n  // Keeps the ${area} state consistent for step ${i}.\n  return { ...input, step: ${i}, area: "${area}" };\n}`);
  return `${lines.join("\n")}\n`;
}

/** The sample repository: per part, `reads` modules of `readChars` characters each. */
export function repoFiles(reads: number, readChars: number): Record<string, string> {
  const files: Record<string, string> = {
    "README.md": "# widgets\n\nA parser, a store, an API and a CLI. Run the checks with `sh check.sh`.\n",
    "greet.txt": "hello\n",
    "check.sh": "#!/bin/sh\n# The project's checks: greet.txt must say hello.\ngrep -q hello greet.txt\n",
  };
  for (const p of PARTS) for (let n = 1; n <= reads; n++) files[`src/${AREA[p]}/m${n}.js`] = sourceFile(AREA[p], n, readChars);
  return files;
}

/** A part's own turns: read its modules, write its new file (no report: the caller adds it). */
function partWork(part: Part, reads: number): ScriptedTurn[] {
  const area = AREA[part];
  const turns: ScriptedTurn[] = [];
  for (let n = 1; n <= reads; n++)
    turns.push(n % 2 === 1 ? edit({ command: "view", path: `/repo/src/${area}/m${n}.js` }) : bash(`cat src/${area}/m${n}.js`));
  turns.push(create(partFile(part), `export const ${area} = { ready: true };\n`));
  return turns;
}

/** The hand-off note a part's agent ends with (its summary, never its transcript). */
function report(parts: readonly Part[]): string {
  const files = parts.map((p) => `src/${AREA[p]}/index.js`).join(", ");
  return `## Summary\nAdded ${parts.map((p) => `the ${AREA[p]} entry point (\`${AREA[p]}.ready\`)`).join(", ")}, after reading the existing modules; the checks pass.\n## Files\n${files}\n## Decisions\nEach entry point exports one object named after its area, as the agreed interfaces say.\n## Open points\nnone`;
}

/** The turns of a run: one part (a sub-issue) or all four in one task. */
export function turnsFor(work: Part | "all", reads: number): ScriptedTurn[] {
  if (work !== "all") return [...partWork(work, reads), say(report([work]))];
  return [...PARTS.flatMap((p) => partWork(p, reads)), say(report(PARTS))];
}

/** The parent issue's text; its marker tells the scripted model which work the prompt is about. */
export const ISSUE = {
  title: "Widgets: parser, store, API and CLI entry points",
  description:
    "[work:all] Add an entry point to each of the parser, store, API and CLI areas. The API and CLI build on the parser and the store.",
};

/** The manager's plan, as the propose_plan tool's input. */
export function planInput(): Parameters<typeof planTurn>[0] {
  return {
    goal: "Give each area of widgets (parser, store, API, CLI) an entry point that exports one object named after the area; the API and the CLI build on the parser and the store.",
    interfaces: PARTS.map((p) => `- src/${AREA[p]}/index.js exports \`${AREA[p]}\` = { ready: boolean }`).join("\n"),
    subtasks: PARTS.map((p) => ({
      key: p,
      title: `Widgets: the ${AREA[p]} entry point`,
      brief: `[work:${p}] Add src/${AREA[p]}/index.js exporting \`${AREA[p]}\` = { ready: true }. Read the existing modules under src/${AREA[p]}/ first so the entry point matches them.${DEPENDS[p].length ? ` It builds on ${DEPENDS[p].map((d) => AREA[d]).join(" and ")}.` : ""}`,
      criteria: [`src/${AREA[p]}/index.js exports ${AREA[p]} with ready: true`, "sh check.sh passes"],
      owns: [`src/${AREA[p]}/`],
      dependsOn: DEPENDS[p],
    })),
  };
}

/** A sub-issue's marker wins: its prompt may quote the parent, never the other way round. */
const markerOf = (text: string): Part | "all" | null =>
  (/\[work:(s[1-4])\]/.exec(text)?.[1] as Part | undefined) ?? (text.includes("[work:all]") ? "all" : null);

/**
 * Answers every model call of a run. `mode` decides the parent's verdict (split or ready);
 * sub-issues are always ready. Agent turns are picked by the prompt's marker and the number of
 * assistant turns so far. Every answer takes `turnMs`.
 */
export function scriptedModel(p: { mode: "split" | "single"; reads: number; turnMs: number; calls: Map<string, number> }) {
  const count = (kind: string) => p.calls.set(kind, (p.calls.get(kind) ?? 0) + 1);
  const delay = (t: ScriptedTurn): ScriptedTurn => ("content" in t ? { ...t, delayMs: p.turnMs } : t);
  return (req: Json): ScriptedTurn | undefined => {
    const compaction = answerCompaction(req);
    if (compaction) {
      count("compaction");
      return delay(compaction);
    }
    const all = JSON.stringify(req?.messages ?? []);
    const work = markerOf(all);
    if (isTriageRequest(req)) {
      count("triage");
      const split = work === "all" && p.mode === "split";
      return delay(
        triageTurn({
          verdict: split ? "split" : "ready",
          rationale: split ? "Four areas that separate agents can do and review on their own, two of them after the other two." : "Clear and small enough for one agent.",
          criteria: ["Each area has an entry point exporting its object", "sh check.sh passes"],
          size: split ? "large" : "medium",
        }),
      );
    }
    if (isPlanRequest(req)) {
      count("plan");
      return delay(planTurn(planInput()));
    }
    if (!work) return undefined;
    count("agent turn");
    const step = ((req?.messages ?? []) as Array<{ role: string }>).filter((m) => m.role === "assistant").length;
    const turns = turnsFor(work, p.reads);
    return delay(turns[Math.min(step, turns.length - 1)] as ScriptedTurn);
  };
}
