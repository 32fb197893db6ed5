// The scripted model of the workload bench: every agent runs the same eight turns (two reads, a
// listing, a new file, an edit, the project's checks through bash, a last look, the report), each
// answered after `turnMs` as a model would. Turns are picked from the request itself (the issue
// named in the prompt, the number of assistant turns so far), so any number of agents can run at
// once in any order. What each issue's agent asked, when and through which worker, is recorded.
import type { ScriptedTurn } from "../../test/fakes/anthropic/index.js";
import { bash, create, edit, say } from "../../test/helpers/turns.js";

/** Request bodies are arbitrary JSON here. */
type Json = any;

/** What the model saw of one issue's agent. */
export interface AgentCalls {
  /** The worker whose model endpoint the agent called (each worker gets its own). */
  worker: number;
  firstAt: number;
  lastAt: number;
  calls: number;
  /** When the report (the last scripted turn) was answered, else null. */
  reportedAt: number | null;
}

/** The turns of one issue's agent: about a real small task's shape. */
export function turnsFor(identifier: string): ScriptedTurn[] {
  const slug = identifier.toLowerCase();
  return [
    edit({ command: "view", path: "/repo/README.md" }),
    bash("ls src | head -20 && grep -rln 'export function' src | head -10"),
    edit({ command: "view", path: "/repo/src/core/m1.js" }),
    create(`src/features/${slug}.js`, `// ${identifier}: the feature this issue asks for.\nexport const feature = ${JSON.stringify(slug)};\n`),
    edit({ command: "str_replace", path: "/repo/greet.txt", old_str: "hello", new_str: `hello from ${identifier}` }),
    bash("sh check.sh && echo checks passed"),
    edit({ command: "view", path: "/repo/greet.txt" }),
    say(`## Summary\nAdded src/features/${slug}.js and greeted from ${identifier}; the checks pass.\n## Files\nsrc/features/${slug}.js, greet.txt\n## Decisions\nnone\n## Open points\nnone`),
  ];
}

/** Agent turns per task, as scripted. */
export const TURNS = turnsFor("X-1").length;

/** A recorder shared by every worker's model endpoint. */
export class ScriptedModel {
  readonly agents = new Map<string, AgentCalls>();
  /** Requests no scripted issue matched (answered "Done." by the fake): must stay 0. */
  unmatched = 0;

  constructor(private readonly turnMs: number) {}

  /** The intercept for the model endpoint of worker `worker`. */
  endpoint(worker: number): (req: Json) => ScriptedTurn | undefined {
    return (req: Json) => {
      const first = req?.messages?.[0];
      const text = typeof first?.content === "string" ? first.content : JSON.stringify(first?.content ?? "");
      const identifier = /<issue id=\\?"([^"\\]+)\\?"/.exec(text)?.[1];
      if (!identifier) {
        this.unmatched++;
        return undefined;
      }
      const now = Date.now();
      const seen = this.agents.get(identifier) ?? { worker, firstAt: now, lastAt: now, calls: 0, reportedAt: null };
      this.agents.set(identifier, seen);
      seen.calls++;
      seen.lastAt = now;
      const step = ((req?.messages ?? []) as Array<{ role: string }>).filter((m) => m.role === "assistant").length;
      const turns = turnsFor(identifier);
      const turn = turns[Math.min(step, turns.length - 1)] as ScriptedTurn;
      if (step >= turns.length - 1) setTimeout(() => (seen.reportedAt ??= Date.now()), this.turnMs);
      return { ...turn, delayMs: this.turnMs };
    };
  }
}
