import type { SubtaskSpec } from "../tasks/tree.js";

// The manager's plan arrives as a tool's input, which a model can get wrong; a retry would pay for
// the whole call again and may go wrong differently, so the plan is repaired rather than refused:
// unknown and duplicate keys get fresh ones, dependencies on missing sub-issues are dropped, a
// cycle loses its back edge, and the list is cut at the maximum. Keys are never renumbered: a
// revision keeps the keys the humans already saw.

/** A plan as the tool returned it, after repair, and what was repaired (to log). */
export interface RepairedPlan {
  goal: string;
  interfaces: string;
  subtasks: SubtaskSpec[];
  repairs: string[];
}

const KEY = /^[A-Za-z0-9_-]{1,32}$/;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === "string" ? v.trim() : "");
const texts = (v: unknown): string[] =>
  Array.isArray(v) ? [...new Set(v.filter((x): x is string => typeof x === "string").map((s) => s.trim()).filter(Boolean))] : [];

/** Repairs the propose_plan input; throws only when no sub-issue at all can be read from it. */
export function repairPlan(input: unknown, p: { maxSubtasks: number; fallbackGoal: string }): RepairedPlan {
  const raw = isObj(input) ? input : {};
  const repairs: string[] = [];
  let goal = text(raw.goal);
  if (!goal) {
    repairs.push("no goal: used the issue's title");
    goal = p.fallbackGoal;
  }
  const interfaces = text(raw.interfaces);
  if (!interfaces) repairs.push("no interfaces");
  let subtasks = readSubtasks(Array.isArray(raw.subtasks) ? raw.subtasks : [], repairs);
  if (subtasks.length === 0) {
    throw new Error(
      "The manager's plan has no readable sub-issue (each needs a title or a brief): check the planning model; the job's retry asks again",
    );
  }
  if (subtasks.length > p.maxSubtasks) {
    repairs.push(`${subtasks.length} sub-issues: kept the first ${p.maxSubtasks} (AGENT_MAX_SUBTASKS)`);
    subtasks = subtasks.slice(0, p.maxSubtasks);
  }
  if (subtasks.length === 1) repairs.push("only one sub-issue");
  dropUnknownDependencies(subtasks, repairs);
  breakCycles(subtasks, repairs);
  return { goal, interfaces, subtasks, repairs };
}

function readSubtasks(items: unknown[], repairs: string[]): SubtaskSpec[] {
  const valid = items.filter(isObj);
  if (valid.length < items.length) repairs.push(`${items.length - valid.length} sub-issue(s) were not objects: dropped`);
  // Fresh keys continue after the highest sN the model used, so they never collide with a later item.
  const numbers = valid.map((s) => /^s(\d+)$/.exec(text(s.key))?.[1]).filter(Boolean).map(Number);
  let next = Math.max(0, ...numbers) + 1;
  const used = new Set<string>();
  const out: SubtaskSpec[] = [];
  for (const [i, s] of valid.entries()) {
    let title = text(s.title);
    let brief = text(s.brief);
    if (!title && !brief) {
      repairs.push(`sub-issue ${i + 1} had neither title nor brief: dropped`);
      continue;
    }
    if (!title) {
      title = (brief.split("\n")[0] ?? brief).slice(0, 80);
      repairs.push(`sub-issue ${i + 1} had no title: took the brief's first line`);
    }
    if (!brief) {
      brief = title;
      repairs.push(`sub-issue ${i + 1} had no brief: used its title`);
    }
    let key = text(s.key);
    if (!KEY.test(key) || used.has(key)) {
      const fresh = `s${next++}`;
      repairs.push(`sub-issue ${i + 1} had ${key ? `a duplicate or invalid key ${JSON.stringify(key)}` : "no key"}: gave it ${fresh}`);
      key = fresh;
    }
    used.add(key);
    out.push({ key, title, brief, criteria: texts(s.criteria), owns: texts(s.owns), dependsOn: texts(s.dependsOn) });
  }
  return out;
}

function dropUnknownDependencies(subtasks: SubtaskSpec[], repairs: string[]): void {
  const keys = new Set(subtasks.map((s) => s.key));
  for (const s of subtasks) {
    const bad = s.dependsOn.filter((d) => !keys.has(d) || d === s.key);
    if (!bad.length) continue;
    repairs.push(`${s.key} depended on ${bad.join(", ")}, not another sub-issue of the plan: dropped`);
    s.dependsOn = s.dependsOn.filter((d) => !bad.includes(d));
  }
}

/** Depth-first in plan order; an edge to a sub-issue still on the stack closes a cycle and is dropped. */
function breakCycles(subtasks: SubtaskSpec[], repairs: string[]): void {
  const byKey = new Map(subtasks.map((s) => [s.key, s]));
  const state = new Map<string, "open" | "done">();
  const visit = (s: SubtaskSpec): void => {
    state.set(s.key, "open");
    for (const dep of [...s.dependsOn]) {
      const mark = state.get(dep);
      if (mark === "open") {
        repairs.push(`${s.key} → ${dep} closed a dependency cycle: dropped`);
        s.dependsOn = s.dependsOn.filter((d) => d !== dep);
      } else if (!mark) {
        const next = byKey.get(dep);
        if (next) visit(next);
      }
    }
    state.set(s.key, "done");
  };
  for (const s of subtasks) if (!state.has(s.key)) visit(s);
}
