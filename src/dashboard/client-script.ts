/**
 * The page's only script. Its event stream (`/api/events?since=<the page's position>`) carries
 * deltas: rows, figure cards and "Needs you" entries as the server rendered (and escaped) them,
 * each placed after the entry that precedes it; the script puts them in place without fetching
 * the table. A delta it cannot apply (an anchor missing), a `resync` (the server cannot tell what
 * the page missed) and the periodic refresh of elapsed times fetch the page once and swap the live
 * region; deltas that arrive meanwhile wait and are applied over it if newer. Changed rows flash.
 */
export const CLIENT_SCRIPT = `
(() => {
  // Delegated, as the filter form is re-rendered with the live region; empty filters stay out of the URL.
  document.addEventListener("change", (e) => {
    const form = e.target.closest?.("form.filters");
    if (!form) return;
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) params.set(k, v);
    const q = params.toString();
    location.assign(location.pathname + (q ? "?" + q : ""));
  });
  const status = document.getElementById("live-status");
  const setStatus = (on, text) => { if (status) { status.classList.toggle("on", on); status.textContent = text; } };
  const live = () => document.getElementById("live");
  let seq = live()?.dataset.seq || "";
  let waiting = null, lastRefresh = 0, refreshTimer = 0;
  const seqNo = (s) => { const m = /^([0-9a-f]+)-(\\d+)$/.exec(s || ""); return m ? [m[1], Number(m[2])] : null; };
  const newer = (a, b) => { const x = seqNo(a), y = seqNo(b); return !x || !y || x[0] !== y[0] || x[1] > y[1]; };
  const make = (html) => { const t = document.createElement("template"); t.innerHTML = html; return t.content.firstElementChild; };
  const child = (box, tag, id) => box.querySelector(":scope > " + tag + '[data-issue="' + CSS.escape(id) + '"]');
  // Each op: put the entry of op.id (new HTML when given) right after op.after's (first when null).
  function place(box, tag, ops, remove) {
    for (const id of remove || []) child(box, tag, id)?.remove();
    for (const op of ops || []) {
      let el = child(box, tag, op.id);
      if (op.html !== undefined) {
        const next = make(op.html);
        if (el) el.replaceWith(next);
        el = next;
        if (tag === "tr") el.classList.add("flash");
      }
      if (!el) return false;
      if (op.after === null) { if (box.firstElementChild !== el) box.prepend(el); continue; }
      const anchor = child(box, tag, op.after);
      if (!anchor) return false;
      if (anchor.nextElementSibling !== el) anchor.after(el);
    }
    return true;
  }
  const text = (sel, value) => { const el = document.querySelector(sel); if (el && value !== undefined) el.textContent = value; };
  function apply(d) {
    for (const [key, html] of d.figures || []) document.querySelector('[data-figure="' + key + '"]')?.replaceWith(make(html));
    text(".top .sub", d.head);
    if (d.title !== undefined) document.title = d.title;
    let ok = true;
    if (d.needs?.html !== undefined) document.getElementById("needs-you")?.replaceWith(make(d.needs.html));
    else if (d.needs) {
      const ul = document.querySelector("#needs-you ul");
      ok = Boolean(ul) && place(ul, "li", d.needs.ops, d.needs.remove);
      text("#needs-you h2 .count", String(d.needs.count));
    }
    const body = document.querySelector("#tasks tbody");
    if (d.rows) {
      // The table appears or disappears: the server renders that structure in one place only.
      if (!body || d.rows.count === 0) ok = ok && !body === (d.rows.count === 0);
      else ok = place(body, "tr", d.rows.ops, d.rows.remove) && ok;
      text(".tasks h2 .count", String(d.rows.count));
      text("form.filters .shown", d.rows.shown);
    }
    seq = d.seq;
    return ok;
  }
  function onDelta(d) {
    if (waiting) { waiting.push(d); return; }
    if (!apply(d)) refresh();
  }
  // A full refresh at most every 2 s, whatever asks for it.
  function refresh() {
    if (waiting || refreshTimer) return;
    const wait = Math.max(0, lastRefresh + 2000 - Date.now());
    refreshTimer = setTimeout(swap, wait);
  }
  async function swap() {
    refreshTimer = 0;
    lastRefresh = Date.now();
    waiting = [];
    try {
      const res = await fetch(location.pathname + location.search, { headers: { accept: "text/html" }, cache: "no-store" });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      const next = doc.getElementById("live"), current = live();
      if (!next || !current) return;
      current.replaceWith(document.importNode(next, true));
      document.title = doc.title;
      text(".top .sub", doc.querySelector(".top .sub")?.textContent ?? undefined);
      seq = next.dataset.seq || seq;
    } catch {
      // The next delta that cannot be applied, or the periodic refresh, tries again.
    } finally {
      const held = waiting;
      waiting = null;
      for (const d of held) if (newer(d.seq, seq) && !apply(d)) refresh();
    }
  }
  const url = "/api/events" + (location.search ? location.search + "&" : "?") + "since=" + encodeURIComponent(seq);
  const events = new EventSource(url);
  events.addEventListener("open", () => setStatus(true, "live"));
  events.addEventListener("error", () => setStatus(false, "reconnecting…"));
  events.addEventListener("delta", (e) => { try { onDelta(JSON.parse(e.data)); } catch { refresh(); } });
  events.addEventListener("resync", () => refresh());
  // Elapsed and waiting times move even when no task does.
  setInterval(refresh, 60000);
  // A model turn in flight ticks every second from the elapsed time the server rendered (so the
  // browser's clock never matters); same format as turnClock() in agent-activity.ts.
  const firstSeen = new WeakMap();
  const clock = (ms) => {
    const s = Math.max(0, Math.floor(ms / 1000)), m = Math.floor(s / 60), h = Math.floor(m / 60);
    const pad = (n) => String(n).padStart(2, "0");
    return s < 60 ? s + "s" : m < 60 ? m + "m " + pad(s % 60) + "s" : h + "h " + pad(m % 60) + "m";
  };
  setInterval(() => {
    document.querySelectorAll("[data-turn-elapsed]").forEach((el) => {
      if (!firstSeen.has(el)) firstSeen.set(el, Date.now());
      const ticker = el.querySelector(".ticker");
      if (ticker) ticker.textContent = clock(Number(el.dataset.turnElapsed) + Date.now() - firstSeen.get(el));
    });
  }, 1000);
})();
`;
