// What one live update sends a page: the rows that changed (rendered by render.ts, as the page's
// own rows are), the figure cards and "Needs you" entries whose HTML changed, and where each row
// goes. Every operation is absolute ("this row has this HTML and follows that one"), so applying
// one twice, or over a page that already shows it, changes nothing.
import type { Task } from "../tasks/task.js";
import { computeFigures, needsYou, type NeedsYouItem } from "./figures.js";
import { applyFilter, type TaskFilter } from "./filters.js";
import { figureCards, headerLine, pageTitle, renderNeeds, renderNeedsItem, renderRow, shownLine } from "./render.js";
import { childrenByParent, treeOrder } from "./tree-rows.js";

/** Puts the element of `id` (with `html` when given) right after the one of `after` (null: first). */
export interface PlaceOp {
  id: string;
  after: string | null;
  html?: string;
}

/** The table part of a delta, for one filter. */
export interface RowsDelta {
  /** "12 of 1000 shown". */
  shown: string;
  count: number;
  ops: PlaceOp[];
  /** Rows to take out if the page has them. */
  remove: string[];
}

/** The filter-independent part of a delta. */
export interface SharedDelta {
  figures?: Array<[string, string]>;
  head?: string;
  title?: string;
  /** `html`: the whole section (when it turns empty or stops being empty, and on replays). */
  needs?: { count: number; html?: string; ops?: PlaceOp[]; remove?: string[] };
}

/** What the page last received of the filter-independent parts, to send only what changed. */
export interface Shown {
  cards: Map<string, string>;
  needs: Map<string, string>;
  head: string;
  title: string;
}

export const NOTHING_SHOWN = (): Shown => ({ cards: new Map(), needs: new Map(), head: "", title: "" });

/** A flush's shared work: the rows that may differ, rendered once whatever the clients' filters. */
export interface Frame {
  all: readonly Task[];
  rows: Map<string, string>;
  /** Issues that may have left the view (the task limit) or never reached it. */
  gone: string[];
  shared: SharedDelta;
  /** The filter-independent parts as this frame shows them. */
  next: Shown;
}

/**
 * Renders what `changed` touches: each changed task's row, its parent's (whose progress and badge
 * follow its children) and its children's (which move with it). `full` sends every figure and
 * the whole "Needs you" section (a replay to a page whose state is not known exactly).
 */
export function buildFrame(
  all: readonly Task[],
  changed: ReadonlySet<string>,
  p: { now: number; todayUsd: number; dailyBudgetUsd: number | undefined; last: Shown; full: boolean },
): Frame {
  const byId = new Map(all.map((t) => [t.issueId, t]));
  const kids = childrenByParent(all);
  const touched = new Set<string>();
  for (const id of changed) {
    touched.add(id);
    const parent = byId.get(id)?.parent?.issueId;
    if (parent && byId.has(parent)) touched.add(parent);
    for (const c of kids.get(id) ?? []) touched.add(c.issueId);
  }
  const rows = new Map<string, string>();
  const gone: string[] = [];
  for (const id of touched) {
    const t = byId.get(id);
    if (t) rows.set(id, renderRow(t, p.now, kids.get(id) ?? []));
    else gone.push(id);
  }
  const figures = computeFigures(all, { todayUsd: p.todayUsd, dailyBudgetUsd: p.dailyBudgetUsd });
  const needs = needsYou(all);
  const next: Shown = {
    cards: new Map(figureCards(figures)),
    // Keyed without the clock ("5s ago" moves every second; the page's periodic refresh shows it).
    needs: new Map(needs.map((i) => [i.task.issueId, renderNeedsItem(i, Date.parse(i.since) || 0)])),
    head: headerLine(figures),
    title: pageTitle(needs.length),
  };
  const shared: SharedDelta = {};
  const cards = [...next.cards].filter(([k, html]) => p.full || p.last.cards.get(k) !== html);
  if (cards.length) shared.figures = cards;
  if (p.full || next.head !== p.last.head) shared.head = next.head;
  if (p.full || next.title !== p.last.title) shared.title = next.title;
  if (p.full || next.needs.size === 0 || p.last.needs.size === 0) {
    if (p.full || next.needs.size !== p.last.needs.size) shared.needs = { count: next.needs.size, html: renderNeeds(needs, p.now) };
  } else {
    const items = new Map(needs.map((i) => [i.task.issueId, i]));
    const ops = placeOps([...next.needs.keys()], (id) =>
      p.last.needs.get(id) === next.needs.get(id) ? undefined : renderNeedsItem(items.get(id) as NeedsYouItem, p.now),
    );
    const remove = [...p.last.needs.keys()].filter((id) => !next.needs.has(id));
    if (ops.length || remove.length) shared.needs = { count: next.needs.size, ops, remove };
  }
  return { all, rows, gone, shared, next };
}

/** The table's changes for one filter. */
export function rowsFor(frame: Frame, filter: TaskFilter): RowsDelta {
  const shown = treeOrder(applyFilter(frame.all, filter)).map((t) => t.issueId);
  const ops = placeOps(shown, (id) => frame.rows.get(id));
  const placed = new Set(ops.map((o) => o.id));
  const remove = [...frame.rows.keys(), ...frame.gone].filter((id) => !placed.has(id));
  return { shown: shownLine(shown.length, frame.all.length), count: shown.length, ops, remove };
}

/**
 * An op for each entry `html` gives HTML for, in the new order, each placed after its new
 * predecessor. Entries without HTML keep their order relative to each other (their data did not
 * change), so placing the others in sequence rebuilds the whole order.
 */
export function placeOps(order: readonly string[], html: (id: string) => string | undefined): PlaceOp[] {
  const ops: PlaceOp[] = [];
  order.forEach((id, i) => {
    const h = html(id);
    if (h !== undefined) ops.push({ id, after: i === 0 ? null : (order[i - 1] as string), html: h });
  });
  return ops;
}
