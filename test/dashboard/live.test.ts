// The page's live stream: deltas of the rows, figures and "Needs you" entries that changed,
// rendered by the page's own renderer, replays after a position, resync when it cannot tell.
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { placeOps } from "../../src/dashboard/live-delta.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { seedTask, seedWorkforce } from "./seed.js";
import { openSse, type SseEvent, type SseStream } from "./sse-reader.js";

let t: TestApp | undefined;
const streams: SseStream[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await t?.close();
  t = undefined;
});

interface Op {
  id: string;
  after: string | null;
  html?: string;
}
interface Delta {
  seq: string;
  rows: { shown: string; count: number; ops: Op[]; remove: string[] };
  figures?: Array<[string, string]>;
  needs?: { count: number; html?: string; ops?: Op[]; remove?: string[] };
}

const HTML = { accept: "text/html" };
const rowOf = (html: string, id: string) => {
  const at = html.indexOf(`<tr data-issue="${id}"`);
  return html.slice(at, html.indexOf("</tr>", at) + 5);
};
const seqOf = (html: string) => /<div id="live" data-seq="([^"]*)"/.exec(html)?.[1] ?? "";
const delta = (e: SseEvent) => JSON.parse(e.data) as Delta;

async function page(query = ""): Promise<{ base: string; html: string; seq: string }> {
  await t!.app.listen({ port: 0, host: "127.0.0.1" });
  const base = `http://127.0.0.1:${(t!.app.server.address() as AddressInfo).port}`;
  const html = await (await fetch(`${base}/${query}`, { headers: HTML })).text();
  return { base, html, seq: seqOf(html) };
}

// Applies ops as the page's script does, to an array standing for the DOM.
function applyOps(dom: string[], ops: Op[], remove: string[] = []): string[] {
  const out = dom.filter((id) => !remove.includes(id));
  for (const op of ops) {
    const at = out.indexOf(op.id);
    if (at >= 0) out.splice(at, 1);
    out.splice(op.after === null ? 0 : out.indexOf(op.after) + 1, 0, op.id);
  }
  return out;
}

describe("place operations", () => {
  it("rebuild any new order when only the changed entries are placed", () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 48271) % 2147483647) % n + n) % n;
    for (let round = 0; round < 500; round++) {
      const old = Array.from({ length: 12 }, (_, i) => `t${i}`);
      // Some entries change (and may move anywhere, or leave); the rest keep their relative order.
      const changed = new Set(old.filter(() => rand(3) === 0));
      const kept = old.filter((id) => !changed.has(id));
      const next = [...kept];
      for (const id of changed) if (rand(4) > 0) next.splice(rand(next.length + 1), 0, id);
      next.splice(rand(next.length + 1), 0, `new${round}`);
      const ops = placeOps(next, (id) => (changed.has(id) || id.startsWith("new") ? "<tr>" : undefined));
      const remove = [...changed].filter((id) => !next.includes(id));
      expect(applyOps(old, ops, remove)).toEqual(next);
    }
  });
});

describe("the page's event stream", () => {
  it("sends the changed row as the page renders it, the figures and needs-you that changed, and where the row goes", async () => {
    t = await startTestApp();
    await seedWorkforce(t.deps.tasks);
    const { base, seq } = await page();
    expect(seq).toMatch(/^[0-9a-f]+-\d+$/);
    const s = await openSse(`${base}/api/events?since=${seq}`);
    streams.push(s);
    await s.next((e) => e.event === "hello");
    // The first delta after start-up carries every figure; later ones only those that changed.
    await t.deps.tasks.update("eng-5", () => ({ title: "Rename the config loader (done)" }));
    await s.next((e) => e.event === "delta");

    await t.deps.tasks.update("eng-2", () => ({ state: "pr-open", step: "pull request open", turnStartedAt: null }));
    const d = delta(await s.next((e) => e.event === "delta" && delta(e).rows.ops.some((o) => o.id === "eng-2")));
    const op = d.rows.ops.find((o) => o.id === "eng-2")!;
    // The most recently updated task comes first, and its row is the full page's row, byte for byte.
    expect(op.after).toBeNull();
    const full = await (await fetch(`${base}/`, { headers: HTML })).text();
    expect(op.html).toBe(rowOf(full, "eng-2"));
    expect(d.rows.ops.map((o) => o.id)).toEqual(["eng-2"]);
    expect(d.rows).toMatchObject({ count: 5, shown: "5 of 5 shown" });
    // "Agents at work" went from 1 to 0; cards that did not change are not sent.
    const cards = new Map(d.figures);
    expect(cards.get("active")).toContain('<div class="v">0</div>');
    expect(cards.has("merge-rate")).toBe(false);
    // Its PR awaits review now: one entry is added to "Needs you", the others are not resent.
    expect(d.needs!.count).toBe(3);
    expect(d.needs!.ops!.map((o) => o.id)).toEqual(["eng-2"]);
    expect(d.needs!.ops![0]!.html).toContain("awaits review");

    // The failure is fixed: its "Needs you" entry goes, its row moves to the top.
    await t.deps.tasks.update("eng-4", () => ({ state: "queued", error: null }));
    const fixed = delta(await s.next((e) => e.event === "delta" && Boolean(delta(e).needs?.remove?.includes("eng-4"))));
    expect(fixed.needs!.count).toBe(2);
    expect(fixed.rows.ops[0]).toMatchObject({ id: "eng-4", after: null });
  });

  it("keeps each page's filter: rows that leave it are removed, rows that join it are placed", async () => {
    t = await startTestApp();
    await seedWorkforce(t.deps.tasks);
    const { base, seq } = await page("?state=failed");
    const s = await openSse(`${base}/api/events?state=failed&since=${seq}`);
    streams.push(s);
    await t.deps.tasks.update("eng-2", () => ({ state: "failed", error: "boom" }));
    const joined = delta(await s.next((e) => e.event === "delta" && delta(e).rows.ops.some((o) => o.id === "eng-2")));
    expect(joined.rows).toMatchObject({ count: 2, shown: "2 of 5 shown" });
    expect(joined.rows.ops).toEqual([expect.objectContaining({ id: "eng-2", after: null })]);
    await t.deps.tasks.update("eng-4", () => ({ state: "queued", error: null }));
    const left = delta(await s.next((e) => e.event === "delta" && delta(e).rows.remove.includes("eng-4")));
    expect(left.rows).toMatchObject({ count: 1, ops: [] });
  });

  it("coalesces a burst into few deltas that end at the last state", async () => {
    t = await startTestApp();
    await seedTask(t.deps.tasks, { id: "eng-9", state: "working" });
    const { base, seq } = await page();
    const s = await openSse(`${base}/api/events?since=${seq}`);
    streams.push(s);
    await s.next((e) => e.event === "hello");
    for (let turn = 1; turn <= 30; turn++) await t.deps.tasks.update("eng-9", () => ({ turns: turn, step: `turn ${turn}` }));
    await s.next((e) => e.event === "delta" && Boolean(delta(e).rows.ops.find((o) => o.id === "eng-9")?.html?.includes("turn 30")));
    const deltas = await s.all();
    expect(deltas.filter((e) => e.event === "delta").length).toBeLessThan(30);
  });

  it("replays what changed after the page's position, and asks for a refresh when it cannot tell", async () => {
    t = await startTestApp();
    await seedWorkforce(t.deps.tasks);
    const { base, seq } = await page();
    // Changes between the page's read and its stream's start reach the page in the replay.
    await t.deps.tasks.update("eng-3", () => ({ state: "merged" }));
    await new Promise((r) => setTimeout(r, 300));
    const s = await openSse(`${base}/api/events?since=${seq}`);
    streams.push(s);
    const replay = delta(await s.next((e) => e.event === "delta"));
    expect(replay.rows.ops.map((o) => o.id)).toEqual(["eng-3"]);
    expect(replay.needs?.html).toContain('id="needs-you"');
    expect(replay.figures?.length).toBeGreaterThan(5);

    // A reconnect names the last event it received; one from another process (or run) cannot be resumed.
    const resumed = await openSse(`${base}/api/events`, { "last-event-id": replay.seq });
    streams.push(resumed);
    await resumed.next((e) => e.event === "hello");
    expect((await resumed.all()).map((e) => e.event)).toEqual(["hello"]);
    const stale = await openSse(`${base}/api/events`, { "last-event-id": "deadbeef-3" });
    streams.push(stale);
    await stale.next((e) => e.event === "resync");
  });
});
