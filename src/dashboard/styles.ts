/** The dashboard's stylesheet, inlined so the page needs no build step and no static files. */
export const STYLES = `
:root {
  --bg: #f6f7f9; --panel: #fff; --ink: #1c2330; --muted: #5f6b7a; --faint: #8a94a3; --line: #e3e7ed;
  --blue: #2563eb; --blue-bg: #e8f0fe; --green: #15803d; --green-bg: #e6f6ec; --amber: #b45309;
  --amber-bg: #fff4e0; --red: #c62828; --red-bg: #fdecec; --grey-bg: #eef0f3; --violet: #6d28d9;
  --violet-bg: #f1ebfe;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
a { color: var(--blue); text-decoration: none; }
a:hover { text-decoration: underline; }
.wrap { max-width: 1440px; margin: 0 auto; padding: 20px 28px 40px; }
header.top { display: flex; align-items: baseline; gap: 14px; margin-bottom: 16px; }
header.top h1 { font-size: 20px; margin: 0; letter-spacing: -0.01em; }
header.top .sub { color: var(--muted); }
header.top .right { margin-left: auto; display: flex; gap: 16px; align-items: center; color: var(--muted); }
.live { display: inline-flex; align-items: center; gap: 6px; font-size: 13px; }
.live::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--faint); }
.live.on::before { background: #22c55e; box-shadow: 0 0 0 3px #22c55e33; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; margin-bottom: 18px; }
.fig { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 10px 14px; }
.fig .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
.fig .v { font-size: 22px; font-weight: 650; margin-top: 2px; font-variant-numeric: tabular-nums; }
.fig .n { color: var(--faint); font-size: 12px; }
.bar { height: 5px; background: var(--grey-bg); border-radius: 3px; margin-top: 6px; overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--green); }
.bar.warn > span { background: var(--amber); } .bar.over > span { background: var(--red); }
.unsandboxed { margin: 8px 0; padding: 8px 12px; border-radius: 6px; background: var(--red); color: #fff; font-weight: 600; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; margin-bottom: 18px; }
section > h2 { font-size: 15px; margin: 0; padding: 12px 16px; border-bottom: 1px solid var(--line);
  display: flex; align-items: center; gap: 8px; }
h2 .count { background: var(--grey-bg); color: var(--muted); border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; }
.needs ul { list-style: none; margin: 0; padding: 0; }
.needs li { display: grid; grid-template-columns: 96px minmax(200px, 340px) 1fr 90px; gap: 12px; align-items: baseline;
  padding: 9px 16px; border-top: 1px solid var(--line); border-left: 4px solid transparent; }
.needs li:first-child { border-top: 0; }
.needs li.k-failed { border-left-color: var(--red); } .needs li.k-question { border-left-color: var(--violet); }
.needs li.k-review { border-left-color: var(--amber); }
.needs li.k-budget { border-left-color: var(--violet); }
.needs li.k-plan { border-left-color: var(--violet); } .needs li.k-tree { border-left-color: var(--red); }
.k-plan .what { color: var(--violet); } .k-tree .what { color: var(--red); }
.needs .what { font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
.k-failed .what { color: var(--red); } .k-review .what { color: var(--amber); } .k-budget .what { color: var(--violet); }
.needs .issue { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.needs .why { color: var(--ink); overflow-wrap: anywhere; }
.needs .since { color: var(--muted); text-align: right; font-variant-numeric: tabular-nums; }
.empty { padding: 14px 16px; color: var(--muted); }
form.filters { display: flex; gap: 14px; align-items: center; padding: 10px 16px; border-bottom: 1px solid var(--line); color: var(--muted); }
form.filters select { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--ink); }
form.filters .shown { margin-left: auto; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase;
  letter-spacing: 0.04em; padding: 8px 12px; border-bottom: 1px solid var(--line); background: #fafbfc; }
td { padding: 9px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.issue { max-width: 420px; }
td.issue .id { font-weight: 600; margin-right: 6px; white-space: nowrap; }
td.issue .title { color: var(--ink); }
td.repo { color: var(--muted); white-space: nowrap; }
td.state { min-width: 220px; max-width: 420px; }
.detail { color: var(--muted); font-size: 12.5px; margin-top: 3px; overflow: hidden; text-overflow: ellipsis;
  display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow-wrap: anywhere; }
.badge { display: inline-flex; align-items: center; gap: 6px; border-radius: 999px; padding: 1px 10px;
  font-size: 12.5px; font-weight: 600; white-space: nowrap; }
.s-queued { background: var(--grey-bg); color: #465363; }
.s-working, .s-revising { background: var(--blue-bg); color: var(--blue); }
.s-checking { background: var(--violet-bg); color: var(--violet); }
.s-pr-open { background: var(--amber-bg); color: var(--amber); }
.s-merged, .s-done { background: var(--green-bg); color: var(--green); }
.s-managing { background: var(--blue-bg); color: var(--blue); }
.s-closed { background: var(--grey-bg); color: var(--muted); }
.s-failed { background: var(--red-bg); color: var(--red); }
.s-needs-input { background: var(--violet-bg); color: var(--violet); }
.s-needs-you { background: var(--red-bg); color: var(--red); }
.s-stopped { background: #fdf0e6; color: #9a4a0c; }
.pulse { width: 7px; height: 7px; border-radius: 50%; background: currentColor; animation: pulse 1.4s ease-in-out infinite; }
@keyframes pulse { 50% { opacity: 0.25; } }
tr.flash td { animation: flash 2s ease-out; }
@keyframes flash { from { background: #fff7cc; } to { background: transparent; } }
.muted { color: var(--faint); }
.turn-live { color: var(--blue); font-size: 12.5px; margin-top: 3px; font-variant-numeric: tabular-nums; }
.marks { display: flex; gap: 6px; flex-wrap: wrap; margin-top: 3px; font-size: 11.5px; }
.verdict, .part-of { border-radius: 4px; padding: 0 6px; white-space: nowrap; cursor: help; }
.verdict { background: var(--grey-bg); color: #465363; }
.v-ready { background: var(--green-bg); color: var(--green); }
.v-clarify { background: var(--violet-bg); color: var(--violet); }
.v-split { background: var(--blue-bg); color: var(--blue); }
.part-of { background: var(--grey-bg); color: var(--muted); }
tr.child td.issue { padding-left: 30px; position: relative; }
tr.child td.issue::before { content: "↳"; position: absolute; left: 14px; color: var(--faint); }
tr.parent td { background: #fbfcfe; }
.ctx { color: var(--muted); font-size: 11.5px; white-space: nowrap; }
`;
