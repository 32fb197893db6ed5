import { isActive, type Task } from "../tasks/task.js";
import { turnsCell } from "./agent-activity.js";
import { CLIENT_SCRIPT } from "./client-script.js";
import { type Figures, type NeedsYouItem, totalTokens } from "./figures.js";
import { repoName, STATES, type TaskFilter } from "./filters.js";
import { between, duration, esc, link, percent, tokens, usd } from "./html.js";
import { BADGE_LABEL, stateCell } from "./state-cell.js";
import { STYLES } from "./styles.js";
import { childrenByParent, parentNeedsYou, progressLine, subIssueProgress, treeOrder } from "./tree-rows.js";
import { parentMarker, triageMarker } from "./triage-cell.js";

/** Everything one render of the page shows. */
export interface PageModel {
  /** Every task, for the repository menu. */
  all: readonly Task[];
  /** The tasks that pass the filter, in table order. */
  shown: readonly Task[];
  repos: readonly string[];
  filter: TaskFilter;
  figures: Figures;
  needs: readonly NeedsYouItem[];
  now: number;
  /** CSP nonce of the inline script. */
  nonce: string;
  /** AGENT_SANDBOX=none: agents run without isolation, which the page must not let anyone miss. */
  unsandboxed?: boolean;
  /** The live stream's position this render reflects (see live-model.ts); the page's deltas start after it. */
  seq?: string;
}

// An inline icon, so the browser does not ask the server for /favicon.ico.
const FAVICON =
  "data:image/svg+xml," +
  encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#2563eb"/></svg>');

interface Card {
  key: string;
  label: string;
  value: string;
  note?: string;
  /** How the number is computed, as a tooltip. */
  hint?: string;
  extra?: string;
}

const card = (c: Card) =>
  `<div class="fig" data-figure="${c.key}"${c.hint ? ` title="${esc(c.hint)}"` : ""}><div class="k">${esc(c.label)}</div>` +
  `<div class="v">${esc(c.value)}</div>${c.note ? `<div class="n">${esc(c.note)}</div>` : ""}${c.extra ?? ""}</div>`;

function budgetBar(f: Figures): string {
  if (f.dailyBudgetUsd === null) return "";
  const ratio = f.spendTodayUsd / f.dailyBudgetUsd;
  const cls = ratio >= 1 ? "bar over" : ratio >= 0.8 ? "bar warn" : "bar";
  return `<div class="${cls}"><span style="width:${Math.min(100, Math.round(ratio * 100))}%"></span></div>`;
}

/** Each figure card's HTML by its `data-figure` key, in page order: deltas send the cards that changed. */
export function figureCards(f: Figures): Array<[string, string]> {
  const cards: Card[] = [
    { key: "active", label: "Agents at work", value: String(f.active), note: `${f.queued} queued` },
    { key: "done", label: "Done (merged)", value: String(f.done), note: `of ${f.tasks} task${f.tasks === 1 ? "" : "s"}` },
    { key: "prs-opened", label: "PRs opened", value: String(f.prsOpened), note: `${f.prsMerged} merged · ${f.prsClosed} closed` },
    { key: "merge-rate", label: "Merge rate", value: percent(f.mergeRate), note: "of decided PRs", hint: "merged / (merged + closed unmerged)" },
    {
      key: "revisions",
      label: "Revisions / PR",
      value: f.revisionsPerPr === null ? "–" : f.revisionsPerPr.toFixed(1),
      note: "after review",
      hint: "average revisions over tasks with a PR",
    },
    { key: "label-to-pr", label: "Label → PR", value: duration(f.medianLabelToPrMs), note: "median", hint: "median time from the agent label to the PR" },
    {
      key: "cost-per-pr",
      label: "Cost / merged PR",
      value: usd(f.costPerMergedPr),
      note: `${tokens(f.tokensPerMergedPr)} tokens`,
      hint: "all spend and tokens, failed and abandoned work included, divided by merged PRs",
    },
    {
      key: "spend-today",
      label: "Spend today",
      value: usd(f.spendTodayUsd),
      note: f.dailyBudgetUsd === null ? "no daily budget" : `of ${usd(f.dailyBudgetUsd)} a day`,
      hint: "agent spend since midnight UTC against AGENT_DAILY_BUDGET_USD",
      extra: budgetBar(f),
    },
    {
      key: "state-transfer",
      label: "State transfer",
      value: percent(f.stateTransfer.share),
      note: `${tokens(f.stateTransfer.tokens)} of ${tokens(f.stateTransfer.inputTokens)} input tokens`,
      hint: "tokens sub-issues received from others (their brief, the parent's goal and interfaces, their blockers' notes; estimated at 4 characters a token) ÷ all input tokens (fresh, cache read and cache write) of every task",
    },
    {
      key: "manager",
      label: "Manager",
      value: tokens(f.manager.tokens),
      note: `tokens · ${usd(f.manager.costUsd)}`,
      hint: "tokens and spend of triage and planning calls (already part of the tasks' own cost)",
    },
  ];
  return cards.map((c) => [c.key, card(c)]);
}

function renderFigures(f: Figures): string {
  return `<div class="figures">${figureCards(f)
    .map(([, html]) => html)
    .join("")}</div>`;
}

const KIND_LABEL: Record<NeedsYouItem["kind"], string> = {
  question: "Question",
  plan: "Plan",
  failed: "Failed",
  tree: "Sub-issues",
  review: "Review",
  budget: "Budget",
};

/** One "Needs you" entry (an `<li>` keyed by `data-issue`). */
export function renderNeedsItem(i: NeedsYouItem, now: number): string {
  return (
    `<li class="k-${i.kind}" data-issue="${esc(i.task.issueId)}"><span class="what">${KIND_LABEL[i.kind]}</span>` +
    `<span class="issue">${link(i.task.issueUrl, i.task.identifier, "id")} <span title="${esc(i.task.title)}">${esc(i.task.title)}</span></span>` +
    `<span class="why">${esc(i.reason)}</span>` +
    `<span class="since">${esc(duration(between(i.since, null, now)))} ago</span></li>`
  );
}

/** The whole "Needs you" section. */
export function renderNeeds(items: readonly NeedsYouItem[], now: number): string {
  const rows = items.map((i) => renderNeedsItem(i, now));
  return (
    `<section class="needs" id="needs-you"><h2>Needs you <span class="count">${items.length}</span></h2>` +
    (rows.length ? `<ul>${rows.join("")}</ul>` : `<div class="empty">Nothing needs you right now.</div>`) +
    `</section>`
  );
}

function option(value: string, label: string, selected: boolean): string {
  return `<option value="${esc(value)}"${selected ? " selected" : ""}>${esc(label)}</option>`;
}

function renderFilters(m: PageModel): string {
  const states = [option("", "All states", m.filter.state === null), ...STATES.map((s) => option(s, BADGE_LABEL[s], m.filter.state === s))];
  const repos = [
    option("", "All repositories", m.filter.repo === null),
    ...m.repos.map((r) => option(r, r, m.filter.repo === r.toLowerCase())),
  ];
  return (
    `<form class="filters" method="get" action="/"><label>State <select name="state">${states.join("")}</select></label>` +
    `<label>Repository <select name="repo">${repos.join("")}</select></label>` +
    `<noscript><button type="submit">Apply</button></noscript>` +
    `<span class="shown">${shownLine(m.shown.length, m.all.length)}</span></form>`
  );
}

/**
 * One table row (`<tr data-issue>`): the page and the live deltas both render rows here, so they
 * cannot disagree. `children` are the task's sub-issues among every task (not only those shown).
 */
export function renderRow(t: Task, now: number, children: readonly Task[]): string {
  const start = t.startedAt ?? t.createdAt;
  const elapsed = between(start, isActive(t.state) ? null : (t.finishedAt ?? t.updatedAt), now);
  const u = t.usage;
  const thinking = u.thinking ? ` (${u.thinking} thinking)` : "";
  const transfer = t.transfer ? ` · ${t.transfer.tokens} received from others (state transfer)` : "";
  const tokenTitle = `${u.input} in · ${u.output} out${thinking} · ${u.cacheRead} cache read · ${u.cacheWrite} cache write${transfer}`;
  const progress = subIssueProgress(t, children);
  const tree = progress ? { progress: progressLine(progress), needsYou: parentNeedsYou(t, children) } : undefined;
  const marks = [parentMarker(t), triageMarker(t)].filter(Boolean).join("");
  const cls = t.parent ? ' class="child"' : progress ? ' class="parent"' : "";
  const costNotes = [t.triage ? `of which triage ${usd(t.triage.costUsd)}` : "", progress ? `whole tree, as its roll-up counts it (manager calls and every sub-issue): ${usd(progress.costUsd)}` : ""];
  const costTitle = costNotes.some(Boolean) ? ` title="${esc(costNotes.filter(Boolean).join("; "))}"` : "";
  return (
    `<tr data-issue="${esc(t.issueId)}" data-state="${esc(t.state)}"${cls}>` +
    `<td class="issue">${link(t.issueUrl, t.identifier, "id")}<span class="title">${esc(t.title)}</span>` +
    `${marks ? `<div class="marks">${marks}</div>` : ""}</td>` +
    `<td class="repo">${esc(repoName(t) ?? "–")}</td>` +
    `<td class="state">${stateCell(t, now, tree)}</td>` +
    `<td class="num" title="since ${esc(start)}">${esc(duration(elapsed))}</td>` +
    turnsCell(t) +
    `<td class="num" title="${esc(tokenTitle)}">${esc(tokens(totalTokens(u)))}</td>` +
    `<td class="num"${costTitle}>${esc(usd(t.costUsd))}</td>` +
    `<td class="num">${t.prUrl || t.prNumber !== null ? link(t.prUrl, t.prNumber !== null ? `#${t.prNumber}` : "PR") : '<span class="muted">–</span>'}</td>` +
    `</tr>`
  );
}

// Children are counted from every task, so a parent's "n of m" does not change with the filters.
function rows(m: PageModel): string {
  const kids = childrenByParent(m.all);
  return treeOrder(m.shown)
    .map((t) => renderRow(t, m.now, kids.get(t.issueId) ?? []))
    .join("");
}

function renderTable(m: PageModel): string {
  const head = ["Issue", "Repository", "State", "Elapsed", "Turns", "Tokens", "Cost", "PR"]
    .map((h, i) => `<th${i >= 3 ? ' class="num"' : ""}>${h}</th>`)
    .join("");
  const empty =
    m.all.length === 0
      ? "No tasks yet. Label a Linear issue to hand it to an agent."
      : "No task matches these filters.";
  const body = m.shown.length
    ? `<table id="tasks"><thead><tr>${head}</tr></thead><tbody>${rows(m)}</tbody></table>`
    : `<div class="empty">${esc(empty)}</div>`;
  return `<section class="tasks"><h2>Tasks <span class="count">${m.shown.length}</span></h2>${renderFilters(m)}${body}</section>`;
}

/** The header's one-line summary. */
export function headerLine(f: Figures): string {
  return `${f.tasks} task${f.tasks === 1 ? "" : "s"} · ${f.active} at work · ${f.queued} queued · ${usd(f.totalCostUsd)} spent in all`;
}

/** The page title: how many things need a person, first, so a background tab shows it. */
export function pageTitle(needs: number): string {
  return `${needs ? `${needs} need${needs === 1 ? "s" : ""} you · ` : ""}agent-workforce`;
}

/** "12 of 1000 shown" under the filters. */
export function shownLine(shown: number, all: number): string {
  return `${shown} of ${all} shown`;
}

/** The whole dashboard page: header, workforce figures, "needs you", then every task. */
export function renderPage(m: PageModel): string {
  const f = m.figures;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="${FAVICON}">
<title>${esc(pageTitle(m.needs.length))}</title><style>${STYLES}</style></head>
<body><div class="wrap">
<header class="top"><h1>agent-workforce</h1>
<span class="sub">${esc(headerLine(f))}</span>
<div class="right"><a href="/admin/queues">Queues</a><span id="live-status" class="live">connecting…</span></div></header>
${m.unsandboxed ? `<div class="unsandboxed" role="alert">AGENT_SANDBOX=none: agents run without isolation and can read this machine's files and reach its network.</div>` : ""}
<div id="live" data-seq="${esc(m.seq ?? "")}">${renderFigures(f)}${renderNeeds(m.needs, m.now)}${renderTable(m)}</div>
</div><script nonce="${esc(m.nonce)}">${CLIENT_SCRIPT}</script></body></html>`;
}
