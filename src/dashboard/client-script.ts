/**
 * The page's only script. On every task event it re-fetches the page (same filters) and swaps the
 * live region, so rows and figures are rendered (and escaped) by the server alone; bursts of events
 * are coalesced into one fetch. Changed rows flash briefly.
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
  const changed = new Set();
  let timer = 0, busy = false, again = false, snapshots = 0;
  const setStatus = (on, text) => { if (status) { status.classList.toggle("on", on); status.textContent = text; } };
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const res = await fetch(location.pathname + location.search, { headers: { accept: "text/html" }, cache: "no-store" });
      if (!res.ok) return;
      const next = new DOMParser().parseFromString(await res.text(), "text/html").getElementById("live");
      const current = document.getElementById("live");
      if (!next || !current) return;
      current.replaceWith(document.importNode(next, true));
      for (const id of changed) {
        document.querySelectorAll('tr[data-issue="' + CSS.escape(id) + '"]').forEach((row) => row.classList.add("flash"));
      }
      changed.clear();
    } catch {
      // The next event or the periodic refresh tries again.
    } finally {
      busy = false;
      if (again) { again = false; schedule(); }
    }
  }
  function schedule() { clearTimeout(timer); timer = setTimeout(refresh, 150); }
  const events = new EventSource("/api/events");
  events.addEventListener("open", () => setStatus(true, "live"));
  events.addEventListener("error", () => setStatus(false, "reconnecting…"));
  events.addEventListener("snapshot", () => { if (snapshots++ > 0) schedule(); });
  events.addEventListener("task", (e) => {
    try { changed.add(JSON.parse(e.data).issueId); } catch {}
    schedule();
  });
  // Elapsed times and waiting times move even when no task does.
  setInterval(schedule, 30000);
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
